/* global db */
// Run once by the mongo image when its data directory is empty: the platform's user, with
// readWrite on its database and nothing else. Its password comes from the container's environment.
const password = process.env.MONGO_WXP_PASSWORD;
if (!password || password.length < 16) throw new Error('MONGO_WXP_PASSWORD must be at least 16 characters');
db.getSiblingDB('admin').createUser({
  user: 'wxp',
  pwd: password,
  roles: [{ role: 'readWrite', db: 'wechat' }],
});
