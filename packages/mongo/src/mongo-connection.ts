import { MongoClient, type Db } from 'mongodb';

export interface MongoConnection {
  readonly client: MongoClient;
  readonly db: Db;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to the database named in the URL. The options stay within what both MongoDB and
 * FerretDB support, so the same code runs against a replica set in production.
 */
export async function connectMongo(url: string, appName: string): Promise<MongoConnection> {
  const client = new MongoClient(url, { appName, serverSelectionTimeoutMS: 10_000, maxPoolSize: 20 });
  await client.connect();
  const db = client.db();
  const connection: MongoConnection = {
    client,
    db,
    async ping() {
      await db.command({ ping: 1 });
    },
    async close() {
      await client.close();
    },
  };
  await connection.ping();
  return connection;
}
