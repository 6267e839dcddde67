/**
 * A realistic mix of one user's pushes, in order: a follow (every third through a code), a menu
 * click, a scan (every second user), an unfollow (every fourth) and a return through a code (every
 * eighth). `at(step)` gives each its CreateTime.
 */
export function pushMixOf(
  user: number,
  base: { ToUserName: string; FromUserName: string },
  at: (step: number) => string,
): Record<string, string>[] {
  const event = { ...base, MsgType: 'event' };
  const pushes: Record<string, string>[] = [
    {
      ...event,
      CreateTime: at(0),
      Event: 'subscribe',
      ...(user % 3 === 0 ? { EventKey: `qrscene_${user % 7}` } : {}),
    },
    { ...event, CreateTime: at(1), Event: 'CLICK', EventKey: 'k' },
  ];
  if (user % 2 === 0)
    pushes.push({ ...event, CreateTime: at(2), Event: 'SCAN', EventKey: String((user % 5) + 1) });
  if (user % 4 === 0) pushes.push({ ...event, CreateTime: at(3), Event: 'unsubscribe' });
  if (user % 8 === 0)
    pushes.push({ ...event, CreateTime: at(4), Event: 'subscribe', EventKey: 'qrscene_back' });
  return pushes;
}
