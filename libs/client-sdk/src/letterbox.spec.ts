import { contentRect, screenToFill, toStreamPixel } from './letterbox';

describe('letterboxing', () => {
  const stream = { width: 1280, height: 720 };

  it('centres a wide stream in a tall element with bars above and below', () => {
    expect(contentRect({ width: 640, height: 800 }, stream)).toEqual({ x: 0, y: 220, width: 640, height: 360 });
  });

  it('centres it in a wider element with bars left and right', () => {
    expect(contentRect({ width: 2000, height: 720 }, stream)).toEqual({ x: 360, y: 0, width: 1280, height: 720 });
  });

  it('maps element points to stream pixels whatever the scale', () => {
    const box = { width: 640, height: 800 }; // half scale, content at y 220..580
    expect(toStreamPixel({ x: 0, y: 220 }, box, stream)).toEqual({ x: 0, y: 0, inside: true });
    expect(toStreamPixel({ x: 320, y: 400 }, box, stream)).toEqual({ x: 640, y: 360, inside: true });
    expect(toStreamPixel({ x: 639.9, y: 579.9 }, box, stream)).toEqual({ x: 1279, y: 719, inside: true });
  });

  it('clamps points over the bars to the edge and says they are outside', () => {
    const box = { width: 640, height: 800 };
    expect(toStreamPixel({ x: 100, y: 10 }, box, stream)).toEqual({ x: 200, y: 0, inside: false });
    expect(toStreamPixel({ x: 700, y: 790 }, box, stream)).toEqual({ x: 1279, y: 719, inside: false });
  });

  it('maps nothing before the stream has a size', () => {
    expect(toStreamPixel({ x: 5, y: 5 }, { width: 100, height: 100 }, { width: 0, height: 0 })).toEqual({ x: 0, y: 0, inside: false });
  });

  it('fills an element with an even-sized screen within the limits, keeping its shape', () => {
    expect(screenToFill({ width: 1365, height: 755 })).toEqual({ width: 1364, height: 754 });
    expect(screenToFill({ width: 7680, height: 2160 })).toEqual({ width: 3840, height: 1080 });
    expect(screenToFill({ width: 1920, height: 1080 }, { width: 1280, height: 720 })).toEqual({ width: 1280, height: 720 });
    expect(screenToFill({ width: 0, height: 0 })).toEqual({ width: 2, height: 2 });
  });
});
