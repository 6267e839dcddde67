export * from './infrastructure';
export * from './local-stack';
export * from './free-port';
export * from './kafka-broker';
export * from './document-store';
export * from './repo-paths';
export * from './broker-security';
export * from './service-acls';
