// The ceiling of the gateway benchmark: koa answering "success" to every request, doing nothing else.
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.type = 'text/plain';
  ctx.body = 'success';
});
app.listen(Number(process.env.BASELINE_PORT), '127.0.0.1');
