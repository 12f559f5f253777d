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
	"slices"
	"strings"
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

// field is one member of a struct: its JSON name and where it sits in the Go struct
// (FieldByIndex; more than one index for a member of an embedded struct).
type field struct {
	name  string
	index []int
}

type structInfo struct {
	fields []field
	byName map[string]int // JSON name -> index into fields
}

var cache sync.Map // reflect.Type -> *structInfo

// infoOf lists a struct's members. The SDK's middleware metadata (ResultMetadata) and
// unexported serde markers are not members. An exported embedded struct's members
// are the outer struct's too, unless the outer struct has a member of that name (Go's
// own rule): a wrapper can add to an SDK type or replace one of its members. A struct
// with an embedded one lists its members by name.
func infoOf(t reflect.Type) *structInfo {
	if v, ok := cache.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]int{}}
	add := func(name string, index []int) {
		if _, taken := info.byName[name]; !taken {
			info.byName[name] = len(info.fields)
			info.fields = append(info.fields, field{name: name, index: index})
		}
	}
	var embedded []reflect.StructField
	for k := range t.NumField() {
		f := t.Field(k)
		switch {
		case !f.IsExported() || f.Name == "ResultMetadata":
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			embedded = append(embedded, f)
		default:
			add(memberName(f.Name), []int{k})
		}
	}
	for _, e := range embedded {
		for _, inner := range infoOf(e.Type).fields {
			add(inner.name, append([]int{e.Index[0]}, inner.index...))
		}
	}
	if len(embedded) > 0 {
		slices.SortFunc(info.fields, func(a, b field) int { return strings.Compare(a.name, b.name) })
		for k, f := range info.fields {
			info.byName[f.name] = k
		}
	}
	v, _ := cache.LoadOrStore(t, info)
	return v.(*structInfo)
}

// memberName is the JSON name of a Go field: Ec2InstanceId -> ec2InstanceId.
func memberName(goName string) string {
	r, n := utf8.DecodeRuneInString(goName)
	return string(unicode.ToLower(r)) + goName[n:]
}
