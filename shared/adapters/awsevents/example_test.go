package awsevents_test

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/port"
)

func ExampleS3Drops() {
	payload := `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2024-03-01T10:00:00.5Z",
	  "s3":{"bucket":{"name":"pulse-raw"},"object":{"key":"incoming/sales+March+%C3%A9.csv","size":12,"eTag":"abc","versionId":"v1"}}}]}`
	var e events.S3Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		fmt.Println(err)
		return
	}
	drops, err := awsevents.S3Drops(e)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", drops[0])
	// Output: {Bucket:pulse-raw Key:incoming/sales March é.csv Size:12 ETag:abc VersionID:v1 EventTime:2024-03-01T10:00:00.500Z}
}

func ExampleKafkaMessages() {
	e := awsevents.NewKafkaEvent("arn:aws:kafka:us-east-1:000000000000:cluster/pulse/1", []port.Message{
		{Topic: "engagement", Partition: 1, Offset: 7, Timestamp: 1700000000000, Key: []byte("u1"), Value: []byte(`{"v":1}`),
			Headers: map[string][]byte{"trace": {0xdc}}},
	})
	b, _ := json.Marshal(e.Records["engagement-1"][0].Headers)
	fmt.Println(string(b))
	msgs, err := awsevents.KafkaMessages(e)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := msgs[0]
	fmt.Printf("%s/%d/%d %s %s %x\n", m.Topic, m.Partition, m.Offset, m.Key, m.Value, m.Headers["trace"])
	// Output:
	// [{"trace":[-36]}]
	// engagement/1/7 u1 {"v":1} dc
}
