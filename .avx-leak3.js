const av = require('node-av');
const gc = global.gc; const rss = () => Math.round(process.memoryUsage().rss / 1e6);
const which = process.argv[2];
const codec = av.Codec.findEncoderByName(av.FF_ENCODER_LIBX264); const ctx = new av.CodecContext(); ctx.allocContext3(codec);
ctx.width=640; ctx.height=360; ctx.pixelFormat=av.AV_PIX_FMT_YUV420P; ctx.timeBase=new av.Rational(1,30); ctx.bitRate=2000000n;
for (const [k,v] of Object.entries({preset:'ultrafast',tune:'zerolatency'})) ctx.setOption(k,v,av.AV_OPT_TYPE_STRING);
ctx.open2Sync(codec,null);
const f=new av.Frame(); f.alloc(); f.format=av.AV_PIX_FMT_YUV420P; f.width=640; f.height=360; f.getBuffer(0);
const p=new av.Packet(); p.alloc();
let n=0, bytes=0;
for (const round of [0,1,2,3,4]) {
  for (let i=0;i<600;i++){
    f.makeWritable(); const d=f.data[0]; for (let j=0;j<d.length;j+=97) d[j]=(Math.random()*255)|0;
    f.pts=BigInt(n++); ctx.sendFrameSync(f);
    while(ctx.receivePacketSync(p)>=0) { bytes+=p.size; if (which==='data') Buffer.from(p.data); if (which==='dataonly') p.data; p.unref(); }
  }
  gc(); console.log(which, round, rss(), 'MB', 'avg pkt', Math.round(bytes/n));
}
