const av = require('node-av');
const gc = global.gc; const rss = () => Math.round(process.memoryUsage().rss / 1e6);
const which = process.argv[2];
for (const round of [0,1,2,3]) {
  for (let i=0;i<100;i++){
    const codec = av.Codec.findEncoderByName(av.FF_ENCODER_LIBX264); const ctx = new av.CodecContext(); ctx.allocContext3(codec);
    ctx.width=640; ctx.height=360; ctx.pixelFormat=av.AV_PIX_FMT_YUV420P; ctx.timeBase=new av.Rational(1,30); ctx.bitRate=500000n;
    if (which==='opts') { ctx.threadCount=1; ctx.rcMaxRate=500000n; ctx.rcBufferSize=50000; ctx.gopSize=60; ctx.maxBFrames=0; ctx.colorSpace=av.AVCOL_SPC_SMPTE170M; ctx.colorRange=av.AVCOL_RANGE_MPEG; }
    const o = {preset:'ultrafast',tune:'zerolatency'}; if (which==='opts') Object.assign(o,{profile:'baseline','forced-idr':'1','x264-params':'scenecut=0:repeat-headers=1'});
    for (const [k,v] of Object.entries(o)) ctx.setOption(k,v,av.AV_OPT_TYPE_STRING);
    ctx.open2Sync(codec,null);
    const f=new av.Frame(); f.alloc(); f.format=av.AV_PIX_FMT_YUV420P; f.width=640; f.height=360; f.getBuffer(0); f.pts=0n; ctx.sendFrameSync(f);
    const p=new av.Packet(); p.alloc(); while(ctx.receivePacketSync(p)>=0) { if (which==='pktdata') Buffer.from(p.data); p.unref(); }
    ctx.freeContext(); f.free(); p.free();
  }
  gc(); console.log(which, round, rss());
}
