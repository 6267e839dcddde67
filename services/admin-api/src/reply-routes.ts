import { ReplyRulesSet, schemaProblems } from '@wxp/contracts';
import { HttpError } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import { recordAdminEvent, requireAccount, type CommandContext } from './admin-commands';
import { actorOf } from './bearer-auth';
import { getReplies, setReplies } from './api-operations';
import { operation, type BoundOperation } from './operation';

/** The menu responder's projection: the rules as JSON text, or as two fields in documents written before. */
interface RulesView {
  _id: string;
  rules?: string;
  menu?: Record<string, unknown>;
  welcome?: Record<string, unknown>;
}

/**
 * A message's body must be there under its msgtype, and a text needs its content. A rule never
 * names its recipient: the reply goes to the user who clicked or followed, whatever the rule says.
 */
function messageProblems(group: string, messages: Record<string, unknown>): string[] {
  return Object.entries(messages).flatMap(([name, message]) => {
    if (Object.hasOwn(message as object, 'touser'))
      return [`body.${group}.${name}.touser is not allowed: a reply goes to the user who acted`];
    const type = (message as { msgtype?: unknown })?.msgtype;
    const body = typeof type === 'string' ? (message as Record<string, unknown>)[type] : undefined;
    if (body === null || typeof body !== 'object')
      return [`body.${group}.${name}: a "${String(type)}" message needs a "${String(type)}" object`];
    if (type === 'text' && typeof (body as { content?: unknown }).content !== 'string')
      return [`body.${group}.${name}.text.content must be text`];
    return [];
  });
}

/**
 * Reply rules are a command: the admin API checks them and writes them as an event on
 * wechat.admin.v1; the menu responder projects that event, and reads here come from its projection.
 */
export function replyOperations(db: Db, commands: CommandContext, rulesCollection: string): BoundOperation[] {
  const rules = db.collection<RulesView>(rulesCollection);

  const set = operation(setReplies, async (ctx, { params, body }) => {
    const { appId } = params;
    requireAccount(commands.accounts, appId);
    const data = { appId, menu: body.menu ?? {}, welcome: body.welcome ?? {} };
    const problems = [
      ...messageProblems('menu', data.menu),
      ...messageProblems('welcome', data.welcome),
      ...schemaProblems(ReplyRulesSet.type, data),
    ];
    if (problems.length > 0) throw new HttpError(400, 'invalid_request', problems.join('; '));
    const event = await recordAdminEvent(commands.publish, ReplyRulesSet, data, actorOf(ctx));
    ctx.status = 202;
    ctx.body = { accepted: event.id, ...data };
  });

  const show = operation(getReplies, async (ctx, { params }) => {
    const { appId } = params;
    const found = await rules.findOne({ _id: appId });
    const stored = typeof found?.rules === 'string' ? (JSON.parse(found.rules) as Partial<RulesView>) : found;
    ctx.body = { appId, menu: stored?.menu ?? {}, welcome: stored?.welcome ?? {} };
  });

  return [set, show];
}
