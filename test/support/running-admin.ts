import { ReadModels } from '@wxp/contracts';
import type { MongoConnection } from '@wxp/mongo';
import { createMetricsRegistry, startHttpServer, type RunningServer } from '@wxp/service-runtime';
import pino from 'pino';
import { createAdminApp } from '../../services/admin-api/src/app';

/** The admin API over the test's own database, on a free port. */
export async function startAdmin(
  mongo: MongoConnection,
  secrets: { adminToken: string; privacyKey: string },
): Promise<RunningServer & { get(path: string, token?: string): Promise<Response> }> {
  const server = await startHttpServer(
    createAdminApp({
      mongo,
      ...secrets,
      subscribersCollection: ReadModels.subscribers,
      countsCollection: ReadModels.followerCounts,
      campaignCountsCollection: ReadModels.campaignCounts,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      metrics: createMetricsRegistry('admin-api'),
    }),
    0,
  );
  return Object.assign(server, {
    get: (path: string, token = secrets.adminToken) =>
      fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { authorization: `Bearer ${token}` } }),
  });
}
