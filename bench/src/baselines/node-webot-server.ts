// The node-webot `wechat` middleware verifying and parsing the same pushes as the gateway, with
// nothing behind it: what an Official Account server usually is, for comparison.
import { createServer } from 'node:http';
import wechat from 'wechat';

const account = JSON.parse(process.env.BASELINE_ACCOUNT ?? '{}') as {
  appId: string;
  token: string;
  encodingAESKey: string;
};

const middleware = wechat(
  {
    token: account.token,
    appid: account.appId,
    encodingAESKey: account.encodingAESKey,
    checkSignature: true,
  },
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('success');
  },
);

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/healthz') {
    res.end('ok');
    return;
  }
  // The middleware expects connect's parsed query.
  (req as typeof req & { query: Record<string, string> }).query = Object.fromEntries(url.searchParams);
  middleware(req, res, (error) => {
    res.writeHead(400);
    res.end(String(error));
  });
}).listen(Number(process.env.BASELINE_PORT), '127.0.0.1');
