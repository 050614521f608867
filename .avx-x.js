const av = require('node-av');
(async () => {
  const W=1280,H=720;
  const fc = new av.FormatContext(); const d = av.Dictionary.fromObject({video_size:`${W}x${H}`, framerate:'30', draw_mouse:'0'});
  console.log('open', await fc.openInput(':88', av.InputFormat.findInputFormat('x11grab'), d)); d.free();
  const par = fc.streams[0].codecpar; console.log('codec', par.codecId, av.AV_CODEC_ID_RAWVIDEO, par.format);
  const pkt = new av.Packet(); pkt.alloc();
  // A: pkt.data + scaleSync
  const sws = new av.SoftwareScaleContext(); sws.getContext(W,H,par.format,W,H,av.AV_PIX_FMT_YUV420P,av.SWS_POINT);
  const out = Buffer.alloc(W*H*3/2); const P=[out.subarray(0,W*H), out.subarray(W*H,W*H*5/4), out.subarray(W*H*5/4)];
  const tA=[], tA1=[];
  for (let i=0;i<40;i++){ await fc.readFrame(pkt); const a=performance.now(); const data=pkt.data; const b=performance.now(); sws.scaleSync([data],[W*4],0,H,P,[W,W/2,W/2]); tA.push(performance.now()-a); tA1.push(b-a); pkt.unref(); }
  // B: rawvideo decoder + scaleFrameSync
  const dec = av.Codec.findDecoder(par.codecId); const dctx = new av.CodecContext(); dctx.allocContext3(dec); dctx.parametersToContext(par); console.log('dec open', dctx.open2Sync(dec, null));
  const src = new av.Frame(); src.alloc();
  const dst = new av.Frame(); dst.alloc(); dst.format=av.AV_PIX_FMT_YUV420P; dst.width=W; dst.height=H; dst.getBuffer(0);
  const sws2 = new av.SoftwareScaleContext(); sws2.getContext(W,H,par.format,W,H,av.AV_PIX_FMT_YUV420P,av.SWS_POINT);
  const tB=[];
  for (let i=0;i<40;i++){ await fc.readFrame(pkt); const a=performance.now();
    let r = dctx.sendPacketSync(pkt); r = dctx.receiveFrameSync(src); if (r<0) console.log('recv', r);
    r = sws2.scaleFrameSync(dst, src); if (r<0) console.log('scale', r, av.FFmpegError.strerror(r));
    const dd = dst.data, ls = dst.linesize; dd[0].copy(out, 0, 0, W*H); dd[1].copy(out, W*H, 0, W*H/4); dd[2].copy(out, W*H*5/4, 0, W*H/4);
    src.unref(); pkt.unref(); tB.push(performance.now()-a); }
  console.log('dst linesize', dst.linesize.slice(0,3));
  const p50 = (t) => t.sort((a,b)=>a-b)[t.length>>1].toFixed(2);
  console.log('A pkt.data+scaleSync p50', p50(tA), 'of which pkt.data', p50(tA1), ' B decoder+scaleFrame p50', p50(tB));
  await fc.closeInput();
})();
