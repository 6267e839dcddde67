#!/bin/bash
# The broker of docker-compose.yml: SCRAM-SHA-512 on the internal network, ACLs enforced, a user per
# service written into the cluster's metadata when its storage is first formatted. Passwords come
# from the environment (letters and digits: they go into a JAAS line and a --add-scram argument).
set -euo pipefail

users=(admin gateway admin-api subscriber-projection qr-attribution menu-responder profile-enricher)
password_of() {
  local variable="KAFKA_$(echo "$1" | tr 'a-z-' 'A-Z_')_PASSWORD"
  local value="${!variable:-}"
  if [[ ! "$value" =~ ^[A-Za-z0-9]{16,}$ ]]; then
    echo "kafka: $variable must be at least 16 letters and digits" >&2
    exit 1
  fi
  printf '%s' "$value"
}

admin_password="$(password_of admin)"
properties=/tmp/server.properties
cat > "$properties" <<PROPERTIES
process.roles=broker,controller
node.id=1
# The controller listens inside this container only: nothing on the network can reach it.
controller.quorum.voters=1@127.0.0.1:9093
listeners=SASL_PLAINTEXT://:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=SASL_PLAINTEXT://kafka:9092
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${admin_password}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
log.dirs=/var/lib/kafka/data
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPERTIES
chmod 600 "$properties"

# For the health check's client.
cat > /tmp/admin.properties <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${admin_password}";
PROPERTIES
chmod 600 /tmp/admin.properties

scram=()
for user in "${users[@]}"; do
  scram+=(--add-scram "SCRAM-SHA-512=[name=${user},password=$(password_of "$user")]")
done
# Formatted once: on later starts the data is kept and the users already in its metadata stay.
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted \
  -t "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" -c "$properties" "${scram[@]}" > /dev/null
exec /opt/kafka/bin/kafka-server-start.sh "$properties"
