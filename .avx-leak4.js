const av = require('node-av');
const gc = global.gc; const rss = () => Math.round(process.memoryUsage().rss / 1e6);
const which = process.argv[2];
const src = Buffer.alloc(100000, 1);
for (const round of [0,1,2,3]) {
  for (let i=0;i<2000;i++){
    const p=new av.Packet(); p.alloc(); p.data = src;
    if (which==='read') p.data;
    if (which==='readunref') { p.data; p.unref(); }
    p.free();
  }
  gc(); console.log(which, round, rss());
}
