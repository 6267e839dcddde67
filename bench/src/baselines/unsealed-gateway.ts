// The gateway with sealing taken out: the same app, configuration, broker and acks, its events sent
// to a topic of the benchmark's own that no consumer reads. Beside the gateway it tells what
// sealing (the data key, stored on a follow, and the cipher) costs a push.
import { EventPublisher, createKafka } from '@wxp/kafka';
import { pseudonymOf } from '@wxp/privacy';
import { runHttpService } from '@wxp/service-runtime';
import { AccountDirectory } from '@wxp/gateway/dist/account-directory';
import { createGatewayApp } from '@wxp/gateway/dist/app';
import { gatewayConfig, gatewayPushLimits, gatewayServerLimits } from '@wxp/gateway/dist/config';
import { UNSEALED_EVENTS_TOPIC } from '../unsealed-topic';

runHttpService('gateway-unsealed', async ({ logger, metrics }) => {
  const config = gatewayConfig();
  const accounts = AccountDirectory.fromFile(config.WECHAT_ACCOUNTS_FILE);
  const publisher = await EventPublisher.connect(
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'gateway-unsealed', logger }),
  );
  const app = createGatewayApp({
    accounts,
    publish: (events) =>
      publisher.publishTogether(events.map((event) => ({ ...event, topic: UNSEALED_EVENTS_TOPIC }))),
    isBrokerConnected: () => publisher.isConnected,
    pseudonymOf: (appId, openId) => pseudonymOf(config.PRIVACY_KEY, appId, openId),
    seal: async (event) => event,
    isStoreReachable: async () => undefined,
    logger,
    metrics,
    ...gatewayPushLimits(config),
  });
  return {
    app,
    port: Number(process.env.BASELINE_PORT),
    host: '127.0.0.1',
    limits: gatewayServerLimits(config),
    stop: () => publisher.disconnect(),
  };
});
