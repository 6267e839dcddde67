import { repliesInAnswer } from '@wxp/accounts';
import { ReplyRulesSet, schemaProblems } from '@wxp/contracts';
import {
  completeRules,
  hasPassiveForm,
  replyMessageProblems,
  type ReplyMessage,
  type ReplyRules,
} from '@wxp/reply-rules';
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
 * Every message of the rules, checked as WeChat would take it; for an account that replies inside
 * the answer, also that WeChat takes its kind there (mpnews and mini program cards it does not).
 */
function rulesProblems(rules: ReplyRules, passive: boolean): string[] {
  const places: [string, unknown][] = [
    ...(['menu', 'welcome', 'scan'] as const).flatMap((group) =>
      Object.entries(rules[group]).map(
        ([name, message]) => [`body.${group}.${name}`, message] as [string, unknown],
      ),
    ),
    ...rules.keywords.rules.map(
      (rule, i) => [`body.keywords.rules[${i}].reply`, rule.reply] as [string, unknown],
    ),
    ...(rules.keywords.default
      ? [['body.keywords.default', rules.keywords.default] as [string, unknown]]
      : []),
  ];
  return places.flatMap(([path, message]) => {
    const problems = replyMessageProblems(path, message);
    if (problems.length === 0 && passive && !hasPassiveForm(message as ReplyMessage))
      return [
        `${path}: a "${(message as ReplyMessage).msgtype}" message cannot be a reply inside the answer`,
      ];
    return problems;
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
    const account = requireAccount(commands.accounts, appId);
    const data = {
      appId,
      menu: body.menu ?? {},
      welcome: body.welcome ?? {},
      scan: body.scan ?? {},
      keywords: body.keywords ?? { rules: [] },
    };
    const problems = [
      ...rulesProblems(data as ReplyRules, repliesInAnswer(account)),
      ...schemaProblems(ReplyRulesSet.type, data),
    ];
    if (problems.length > 0) throw new HttpError(400, 'invalid_request', problems.join('; '));
    const event = await recordAdminEvent(
      commands.publish,
      ReplyRulesSet,
      data,
      actorOf(ctx),
      'the rules could not be recorded, so none changed; ask again',
    );
    ctx.status = 202;
    ctx.body = { accepted: event.id, ...data };
  });

  const show = operation(getReplies, async (ctx, { params }) => {
    const { appId } = params;
    const found = await rules.findOne({ _id: appId });
    const stored =
      typeof found?.rules === 'string' ? (JSON.parse(found.rules) as Partial<ReplyRules>) : found;
    ctx.body = { appId, ...completeRules(stored as Partial<ReplyRules> | null) };
  });

  return [set, show];
}
