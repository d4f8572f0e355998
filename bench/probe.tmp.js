const { CollectionStack } = require('./dist/collection.js');
const { EventWriter } = require('./dist/workload.js');
(async () => {
  const s = await CollectionStack.start('probe');
  const t0 = Date.now();
  try {
    const w = new EventWriter();
    for (let k = 0; k < 100; k++) {
      const r = await fetch(`${s.url}/v1/batch`, { method: 'POST', headers: { authorization: s.authorization, 'content-type': 'application/json' }, body: w.batch(100) });
      if (r.status !== 200) console.log(r.status);
    }
    console.log('sent', Date.now() - t0);
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      console.log(((Date.now() - t0) / 1000).toFixed(0), await s.resolutions(), await s.countEvents());
    }
    console.log(s.process.output.join('').slice(-3000));
  } finally { await s.stop(); }
})();
