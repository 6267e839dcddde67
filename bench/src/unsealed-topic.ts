import { Topics, topicCatalogue, type TopicSpec } from '@wxp/contracts';

/** Where the unsealed gateway baseline publishes: shaped as the events topic, read by nobody. */
export const UNSEALED_EVENTS_TOPIC = 'bench.unsealed-events';

export function unsealedEventsTopic(): TopicSpec {
  const events = topicCatalogue.find((topic) => topic.name === Topics.events)!;
  return { ...events, name: UNSEALED_EVENTS_TOPIC, description: 'unsealed gateway baseline' };
}
