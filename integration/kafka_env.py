"""The environments that tools written for Apache Kafka's images give a
broker, as facts read from their sources, with the fixed ports (9092, 9093,
9094, ...) made parameters so tests can pick free ones:

- testcontainers-java's org.testcontainers.kafka.KafkaHelper.envVars(), for
  apache/kafka;
- testcontainers-go's modules/kafka, testcontainers-python's
  community/kafka (default mode) and testcontainers-node's modules/kafka
  (KRaft mode), all three written for Confluent's images;
- apache/kafka's docker/examples single-node plaintext compose file.
Listener hosts are `host` (0.0.0.0 in a container, 127.0.0.1 on a shared
machine)."""

LONG_MAX = str(2**63 - 1)


def testcontainers_java(plain, broker, controller, host='0.0.0.0'):
    return {
        'CLUSTER_ID': '4L6g3nShT-eMCtK--X86sw',
        'KAFKA_LISTENERS': f'PLAINTEXT://{host}:{plain},BROKER://{host}:{broker},CONTROLLER://{host}:{controller}',
        'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP': 'BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'KAFKA_INTER_BROKER_LISTENER_NAME': 'BROKER',
        'KAFKA_PROCESS_ROLES': 'broker,controller',
        'KAFKA_CONTROLLER_LISTENER_NAMES': 'CONTROLLER',
        'KAFKA_NODE_ID': '1',
        'KAFKA_CONTROLLER_QUORUM_VOTERS': f'1@localhost:{controller}',
        'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR': '1',
        'KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS': '1',
        'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR': '1',
        'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR': '1',
        'KAFKA_LOG_FLUSH_INTERVAL_MESSAGES': LONG_MAX,
        'KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS': '0',
    }


def testcontainers_go(plain, broker, controller, host='0.0.0.0'):
    """The Java module's variables without CLUSTER_ID, plus Confluent's
    KAFKA_REST_BOOTSTRAP_SERVERS and the ZooKeeper-era KAFKA_BROKER_ID."""
    env = testcontainers_java(plain, broker, controller, host)
    del env['CLUSTER_ID']
    env['KAFKA_REST_BOOTSTRAP_SERVERS'] = env['KAFKA_LISTENERS']
    env['KAFKA_BROKER_ID'] = '1'
    return env


def testcontainers_python(plain, broker, controller=None, host='0.0.0.0'):
    """The default mode, or with a controller port the with_kraft() mode."""
    env = {
        'KAFKA_LISTENERS': f'PLAINTEXT://{host}:{plain},BROKER://{host}:{broker}',
        'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP': 'BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'KAFKA_INTER_BROKER_LISTENER_NAME': 'BROKER',
        'KAFKA_BROKER_ID': '1',
        'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR': '1',
        'KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS': '1',
        'KAFKA_LOG_FLUSH_INTERVAL_MESSAGES': '10000000',
        'KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS': '0',
    }
    if controller is not None:
        env.update({
            'CLUSTER_ID': 'MkU3OEVBNTcwNTJENDM2Qk',
            'KAFKA_NODE_ID': '1',
            'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP': env['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP'] + ',CONTROLLER:PLAINTEXT',
            'KAFKA_LISTENERS': env['KAFKA_LISTENERS'] + f',CONTROLLER://{host}:{controller}',
            'KAFKA_PROCESS_ROLES': 'broker,controller',
            'KAFKA_CONTROLLER_QUORUM_VOTERS': f'1@localhost:{controller}',
            'KAFKA_CONTROLLER_LISTENER_NAMES': 'CONTROLLER',
        })
    return env


def testcontainers_node_kraft(plain, broker, controller, host='0.0.0.0'):
    return {
        'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP': 'BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'KAFKA_INTER_BROKER_LISTENER_NAME': 'BROKER',
        'KAFKA_BROKER_ID': '1',
        'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR': '1',
        'KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS': '1',
        'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR': '1',
        'KAFKA_LOG_FLUSH_INTERVAL_MESSAGES': LONG_MAX,
        'KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS': '0',
        'KAFKA_CONFLUENT_SUPPORT_METRICS_ENABLE': 'false',
        'KAFKA_ADVERTISED_LISTENERS': f'BROKER://localhost:{broker}',
        'KAFKA_LISTENERS': f'PLAINTEXT://{host}:{plain},BROKER://{host}:{broker},CONTROLLER://{host}:{controller}',
        'CLUSTER_ID': '4L6g3nShT-eMCtK--X86sw',
        'KAFKA_NODE_ID': '1',
        'KAFKA_PROCESS_ROLES': 'broker,controller',
        'KAFKA_CONTROLLER_QUORUM_VOTERS': f'1@localhost:{controller}',
        'KAFKA_CONTROLLER_LISTENER_NAMES': 'CONTROLLER',
    }


def apache_kafka_single_node(host_port, internal, controller, with_listeners=True):
    """Without KAFKA_LISTENERS, apache/kafka derives them from the advertised
    listeners with every host 0.0.0.0."""
    env = {
        'KAFKA_NODE_ID': '1',
        'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT',
        'KAFKA_ADVERTISED_LISTENERS': f'PLAINTEXT_HOST://localhost:{host_port},PLAINTEXT://broker:{internal}',
        'KAFKA_PROCESS_ROLES': 'broker,controller',
        'KAFKA_CONTROLLER_QUORUM_VOTERS': f'1@broker:{controller}',
        'KAFKA_INTER_BROKER_LISTENER_NAME': 'PLAINTEXT',
        'KAFKA_CONTROLLER_LISTENER_NAMES': 'CONTROLLER',
        'CLUSTER_ID': '4L6g3nShT-eMCtK--X86sw',
        'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR': '1',
        'KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS': '0',
        'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR': '1',
        'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR': '1',
        'KAFKA_LOG_DIRS': '/tmp/kraft-combined-logs',
    }
    if with_listeners:
        env['KAFKA_LISTENERS'] = f'CONTROLLER://:{controller},PLAINTEXT_HOST://:{host_port},PLAINTEXT://:{internal}'
    return env
