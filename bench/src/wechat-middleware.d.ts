// The node-webot `wechat` middleware as the baseline server calls it (the package ships no types).
declare module 'wechat' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface WechatConfig {
    token: string;
    appid: string;
    encodingAESKey: string;
    checkSignature?: boolean;
  }

  type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

  function wechat(config: WechatConfig, handler: Middleware): Middleware;
  export = wechat;
}
