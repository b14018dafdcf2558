package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafkaBenchPartitions is the partition count of the bench's topics: one,
// so that the hub's producer and the direct one each fill one sequence of
// idempotent batches, as they would for an ordered endpoint's topic.
const kafkaBenchPartitions = 1

type kafkaBench struct {
	cluster *kfake.Cluster // nil with --kafka-brokers
	brokers []string
	admin   *kgo.Client
}

func openKafkaBench(_ context.Context, brokers string) (*kafkaBench, error) {
	b := &kafkaBench{}
	if brokers == "" {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return nil, fmt.Errorf("start an in-process kfake cluster: %w", err)
		}
		b.cluster, b.brokers = c, c.ListenAddrs()
	} else {
		b.brokers = strings.Split(brokers, ",")
	}
	admin, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...))
	if err != nil {
		b.close()
		return nil, fmt.Errorf("kafka admin client for %s: %w", joinAddrs(b.brokers), err)
	}
	b.admin = admin
	return b, nil
}

func (b *kafkaBench) describe() (string, string) {
	where := "Kafka at " + joinAddrs(b.brokers)
	if b.cluster != nil {
		where = "an in-process kfake cluster of 1 broker"
	}
	return fmt.Sprintf("%s, a topic of %d partition", where, kafkaBenchPartitions), "franz-go (acks=all, idempotent, no linger)"
}

func (b *kafkaBench) create(ctx context.Context, topic string) (map[string]string, map[string]string, error) {
	req := kmsg.NewPtrCreateTopicsRequest()
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = topic, kafkaBenchPartitions, 1
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, b.admin)
	if err != nil {
		return nil, nil, fmt.Errorf("create kafka topic %s: %w", topic, err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return nil, nil, fmt.Errorf("create kafka topic %s: %w", topic, err)
		}
	}
	return map[string]string{"brokers": joinAddrs(b.brokers), "topic": topic}, nil, nil
}

func (b *kafkaBench) count(ctx context.Context, topic string) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	t := kmsg.NewListOffsetsRequestTopic()
	t.Topic = topic
	for i := range int32(kafkaBenchPartitions) {
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Partition, p.Timestamp = i, -1 // the end offset
		t.Partitions = append(t.Partitions, p)
	}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, b.admin)
	if err != nil {
		return 0, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	var n int64
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return 0, fmt.Errorf("list offsets of %s/%d: %w", topic, p.Partition, err)
			}
			n += p.Offset
		}
	}
	return n, nil
}

func (b *kafkaBench) sample(ctx context.Context, topic string) ([]byte, map[string]string, error) {
	c, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	for ctx.Err() == nil {
		fs := c.PollRecords(ctx, 1)
		if err := fs.Err0(); err != nil {
			return nil, nil, fmt.Errorf("consume %s: %w", topic, err)
		}
		if recs := fs.Records(); len(recs) > 0 {
			h := make(map[string]string, len(recs[0].Headers))
			for _, rh := range recs[0].Headers {
				h[rh.Key] = string(rh.Value)
			}
			return recs[0].Value, h, nil
		}
	}
	return nil, nil, ctx.Err()
}

// direct produces as destination/kafka does: acks from all in-sync
// replicas, idempotent (franz-go's default), no linger, the event id as
// the record key.
func (b *kafkaBench) direct(_ context.Context, topic string) (func(context.Context, string, []byte, map[string]string) error, func(), error) {
	c, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		return nil, nil, fmt.Errorf("kafka producer for %s: %w", topic, err)
	}
	publish := func(ctx context.Context, id string, body []byte, headers map[string]string) error {
		rec := &kgo.Record{Key: []byte(id), Value: body, Headers: make([]kgo.RecordHeader, 0, len(headers))}
		for k, v := range headers {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		return c.ProduceSync(ctx, rec).FirstErr()
	}
	return publish, c.Close, nil
}

func (b *kafkaBench) remove(ctx context.Context, topic string) error {
	req := kmsg.NewPtrDeleteTopicsRequest()
	t := kmsg.NewDeleteTopicsRequestTopic()
	t.Topic = &topic
	req.Topics = append(req.Topics, t)
	req.TopicNames = append(req.TopicNames, topic)
	resp, err := req.RequestWith(ctx, b.admin)
	if err != nil {
		return fmt.Errorf("delete kafka topic %s: %w", topic, err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return fmt.Errorf("delete kafka topic %s: %w", topic, err)
		}
	}
	return nil
}

func (b *kafkaBench) close() {
	if b.admin != nil {
		b.admin.Close()
	}
	if b.cluster != nil {
		b.cluster.Close()
	}
}
