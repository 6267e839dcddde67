import Router from '@koa/router';
import { ReplyRulesSet, Topics, schemaProblems, sourceOfApp, type CloudEvent } from '@wxp/contracts';
import type { OutgoingEvent } from '@wxp/kafka';
import { HttpError } from '@wxp/service-runtime';
import { koaBody } from 'koa-body';
import type { Db } from 'mongodb';
import { randomUUID } from 'node:crypto';

interface RulesView {
  _id: string;
  menu: Record<string, unknown>;
  welcome: Record<string, unknown>;
}

function messageProblems(group: string, messages: Record<string, unknown>): string[] {
  return Object.entries(messages).flatMap(([name, message]) => {
    const type = (message as { msgtype?: unknown })?.msgtype;
    const body = typeof type === 'string' ? (message as Record<string, unknown>)[type] : undefined;
    if (body === null || typeof body !== 'object')
      return [`${group}.${name}: a "${String(type)}" message needs a "${String(type)}" object`];
    if (type === 'text' && typeof (body as { content?: unknown }).content !== 'string')
      return [`${group}.${name}.text.content must be text`];
    return [];
  });
}

/**
 * Reply rules are a command: the admin API checks them and writes them as an event on
 * wechat.admin.v1; the menu responder projects that event, and reads here come from its projection.
 */
export function replyRoutes(
  db: Db,
  publish: (event: OutgoingEvent) => Promise<void>,
  rulesCollection: string,
): Router {
  const rules = db.collection<RulesView>(rulesCollection);
  const router = new Router();

  router.put(
    '/apps/:appId/replies',
    koaBody({ json: true, jsonLimit: '256kb', text: false, urlencoded: false }),
    async (ctx) => {
      const appId = ctx.params.appId ?? '';
      const body = (ctx.request.body ?? {}) as { menu?: unknown; welcome?: unknown };
      const data = { appId, menu: body.menu ?? {}, welcome: body.welcome ?? {} };
      const problems = schemaProblems(ReplyRulesSet.type, data);
      if (problems.length === 0) {
        problems.push(
          ...messageProblems('menu', data.menu as Record<string, unknown>),
          ...messageProblems('welcome', data.welcome as Record<string, unknown>),
        );
      }
      if (problems.length > 0) throw new HttpError(400, 'invalid_replies', problems.join('; '));
      const event: CloudEvent = {
        specversion: '1.0',
        id: randomUUID(),
        source: sourceOfApp(appId),
        type: ReplyRulesSet.type,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        dataschema: ReplyRulesSet.dataschema,
        data,
      };
      await publish({ topic: Topics.admin, key: appId, event });
      ctx.status = 202;
      ctx.body = { accepted: event.id, ...data };
    },
  );

  router.get('/apps/:appId/replies', async (ctx) => {
    const appId = ctx.params.appId ?? '';
    const found = await rules.findOne({ _id: appId });
    ctx.body = { appId, menu: found?.menu ?? {}, welcome: found?.welcome ?? {} };
  });
  return router;
}
