// Package ecsjson is the one JSON codec for ECS's shapes, the AWS SDK's types. The ECS
// API (JSON 1.1 protocol) names every member like the SDK's Go field with a lower-case
// first letter (containerInstanceArn, ec2InstanceId, id) and leaves out what is unset.
// The local endpoint answers the SDK with it, and snapshot files hold the same JSON, so
// `aws ecs describe-*` output can be pasted into one.
//
// What is written: a nil pointer, slice or map and an empty string (the SDK's enums)
// are left out; a number or boolean that is not a pointer is written even when zero,
// as ECS does (runningTasksCount 0, agentConnected false). Timestamps are epoch
// seconds on the wire and ISO 8601 in files, as the AWS CLI v2 shows them; either is
// read.
package ecsjson

import (
	"reflect"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Times says how timestamps are written.
type Times int

const (
	// EpochSeconds is the wire's form: 1763466302.5.
	EpochSeconds Times = iota
	// ISO8601 is the AWS CLI v2's form: 2026-11-18T11:45:02.500000+00:00.
	ISO8601
)

// Unknown says what reading does with a member the Go type does not have.
type Unknown int

const (
	// RejectUnknown fails: the local endpoint ignores nothing a caller sends.
	RejectUnknown Unknown = iota
	// IgnoreUnknown skips it: a snapshot pasted from a newer CLI carries fields the
	// model does not use.
	IgnoreUnknown
)

var timeType = reflect.TypeFor[time.Time]()

// field is one member of a struct: its JSON name and its index in the Go struct.
type field struct {
	name  string
	index int
}

type structInfo struct {
	fields []field
	byName map[string]int // JSON name -> index into fields
}

var cache sync.Map // reflect.Type -> *structInfo

// infoOf lists a struct's members. The SDK's middleware metadata (ResultMetadata) and
// unexported serde markers are not members.
func infoOf(t reflect.Type) *structInfo {
	if v, ok := cache.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]int{}}
	for k := range t.NumField() {
		f := t.Field(k)
		if !f.IsExported() || f.Name == "ResultMetadata" {
			continue
		}
		info.byName[memberName(f.Name)] = len(info.fields)
		info.fields = append(info.fields, field{name: memberName(f.Name), index: k})
	}
	v, _ := cache.LoadOrStore(t, info)
	return v.(*structInfo)
}

// memberName is the JSON name of a Go field: Ec2InstanceId -> ec2InstanceId.
func memberName(goName string) string {
	r, n := utf8.DecodeRuneInString(goName)
	return string(unicode.ToLower(r)) + goName[n:]
}
