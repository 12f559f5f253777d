package ecsjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Unmarshal reads JSON into dst, a pointer to an SDK type (or a struct of them).
// Errors name the member: containerInstances[0].registeredAt: timestamp "yesterday" is
// neither ISO 8601 nor epoch seconds. An integer that does not fit its field is an
// error, never a wrapped value.
//
// It decodes straight into the Go values, without an intermediate tree: a snapshot at
// ECS's maximums holds 50,000 tasks.
func Unmarshal(data []byte, dst any, unknown Unknown) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("ecsjson: Unmarshal into %T, want a non-nil pointer", dst)
	}
	if !json.Valid(data) {
		// encoding/json names the offending byte and its offset.
		var syntax any
		if err := json.Unmarshal(data, &syntax); err != nil {
			return err
		}
		return errors.New("invalid JSON")
	}
	d := decoder{data: data, unknown: unknown, strings: map[string]string{}}
	return d.value(v.Elem())
}

// decoder walks a document json.Valid accepted, so it never meets a syntax error.
type decoder struct {
	data    []byte
	pos     int
	unknown Unknown
	// strings shares equal values: thousands of tasks name the same cluster,
	// instance, status, group and task definition.
	strings map[string]string
}

// memberError is an error at a member (reading or writing), its path gathered as it
// returns up the value tree, so that a document without errors builds none.
type memberError struct {
	rev     []string // the path, innermost first: registeredAt, [0], containerInstances
	unknown bool     // the member itself is unknown
	err     error
}

func (e *memberError) Error() string {
	var b strings.Builder
	for k := len(e.rev) - 1; k >= 0; k-- {
		if b.Len() > 0 && !strings.HasPrefix(e.rev[k], "[") {
			b.WriteByte('.')
		}
		b.WriteString(e.rev[k])
	}
	if b.Len() == 0 {
		b.WriteString("value")
	}
	if e.unknown {
		return "unknown member " + b.String()
	}
	return b.String() + ": " + e.err.Error()
}

func (e *memberError) Unwrap() error { return e.err }

func fail(format string, args ...any) error {
	return &memberError{err: fmt.Errorf(format, args...)}
}

// at adds the member or index the error happened in.
func at(err error, elem string) error {
	if de, ok := err.(*memberError); ok {
		de.rev = append(de.rev, elem)
		return de
	}
	return &memberError{rev: []string{elem}, err: err}
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the first byte of the next value.
func (d *decoder) peek() byte {
	d.space()
	return d.data[d.pos]
}

func kindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func want(what string, c byte) error {
	return fail("want %s, got %s", what, kindOf(c))
}

func (d *decoder) value(dst reflect.Value) error {
	c := d.peek()
	if c == 'n' { // null: left unset
		d.pos += len("null")
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		if err := d.value(v.Elem()); err != nil {
			return err
		}
		dst.Set(v)
		return nil
	case reflect.Struct:
		if dst.Type() == timeType {
			t, err := d.time(c)
			if err != nil {
				return &memberError{err: err}
			}
			dst.Set(reflect.ValueOf(t))
			return nil
		}
		if c != '{' {
			return want("an object", c)
		}
		info := infoOf(dst.Type())
		return d.members(func(key []byte) error {
			k, ok := info.byName[string(key)]
			if !ok {
				if d.unknown == IgnoreUnknown {
					d.skip()
					return nil
				}
				return &memberError{rev: []string{string(key)}, unknown: true}
			}
			f := info.fields[k]
			if err := d.value(dst.FieldByIndex(f.index)); err != nil {
				return at(err, f.name)
			}
			return nil
		})
	case reflect.Slice:
		if c != '[' {
			return want("a list", c)
		}
		d.pos++
		out := reflect.MakeSlice(dst.Type(), 0, 4)
		for n := 0; ; n++ {
			if d.peek() == ']' {
				d.pos++
				break
			}
			if n > 0 { // the comma
				d.pos++
				d.space()
			}
			out = reflect.Append(out, reflect.Zero(dst.Type().Elem()))
			if err := d.value(out.Index(n)); err != nil {
				return at(err, "["+strconv.Itoa(n)+"]")
			}
		}
		dst.Set(out)
		return nil
	case reflect.Map:
		if c != '{' || dst.Type().Key().Kind() != reflect.String {
			return want("an object", c)
		}
		out := reflect.MakeMap(dst.Type())
		err := d.members(func(key []byte) error {
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := d.value(elem); err != nil {
				return at(err, string(key))
			}
			out.SetMapIndex(reflect.ValueOf(string(key)).Convert(dst.Type().Key()), elem)
			return nil
		})
		dst.Set(out)
		return err
	case reflect.String:
		if c != '"' {
			return want("a string", c)
		}
		dst.SetString(d.string())
		return nil
	case reflect.Bool:
		if c != 't' && c != 'f' {
			return want("a boolean", c)
		}
		dst.SetBool(c == 't')
		d.skip()
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !isNumber(c) {
			return want("an integer", c)
		}
		n := d.number()
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil || dst.OverflowInt(i) {
			return fail("%s is not an integer of %d bits", n, dst.Type().Bits())
		}
		dst.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		if !isNumber(c) {
			return want("a number", c)
		}
		n := d.number()
		f, err := strconv.ParseFloat(n, 64)
		if err != nil || dst.OverflowFloat(f) {
			return fail("%s is not a number of %d bits", n, dst.Type().Bits())
		}
		dst.SetFloat(f)
		return nil
	}
	return fail("unsupported member type %s", dst.Type())
}

func isNumber(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// members calls each for every key of the object at pos, with pos at the key's value.
func (d *decoder) members(each func(key []byte) error) error {
	d.pos++ // {
	for n := 0; ; n++ {
		if d.peek() == '}' {
			d.pos++
			return nil
		}
		if n > 0 { // the comma
			d.pos++
			d.space()
		}
		key := d.rawString()
		d.space()
		d.pos++ // :
		if err := each(key); err != nil {
			return err
		}
	}
}

// rawString returns the bytes of the string at pos, unescaped: the document's own
// for plain text; escapes and non-ASCII text follow encoding/json's rules
// (surrogates, invalid UTF-8).
func (d *decoder) rawString() []byte {
	start := d.pos
	d.skipString()
	raw := d.data[start+1 : d.pos-1]
	if !plain(raw) {
		var s string
		_ = json.Unmarshal(d.data[start:d.pos], &s)
		return []byte(s)
	}
	return raw
}

// string reads the string at pos, shared with its equals.
func (d *decoder) string() string {
	raw := d.rawString()
	if v, ok := d.strings[string(raw)]; ok {
		return v
	}
	v := string(raw)
	d.strings[v] = v
	return v
}

// plain reports printable ASCII without escapes: the bytes are the string.
func plain(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}

// skipString moves past the string at pos.
func (d *decoder) skipString() {
	d.pos++ // "
	for {
		switch d.data[d.pos] {
		case '\\':
			d.pos += 2
		case '"':
			d.pos++
			return
		default:
			d.pos++
		}
	}
}

func (d *decoder) number() string {
	start := d.pos
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			d.pos++
			continue
		}
		break
	}
	return string(d.data[start:d.pos])
}

// skip moves past the value at pos.
func (d *decoder) skip() {
	switch c := d.peek(); {
	case c == '"':
		d.skipString()
	case c == '{' || c == '[':
		depth := 0
		for {
			switch d.data[d.pos] {
			case '"':
				d.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			d.pos++
			if depth == 0 {
				return
			}
		}
	case c == 't':
		d.pos += len("true")
	case c == 'f':
		d.pos += len("false")
	case c == 'n':
		d.pos += len("null")
	default:
		d.number()
	}
}

// Timestamps are kept within the years 1-9999 (minEpoch, maxEpoch): outside them an
// instant has no ISO 8601 form to write back.
const (
	minEpoch = -62135596800 // 0001-01-01T00:00:00Z
	maxEpoch = 253402300799 // 9999-12-31T23:59:59Z
)

// time reads CLI v2's ISO 8601 strings (any offset, any fraction) and the epoch
// seconds the raw API and CLI v1 give, to the microsecond, in UTC.
func (d *decoder) time(c byte) (time.Time, error) {
	switch {
	case c == '"':
		s := d.string()
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is neither ISO 8601 nor epoch seconds", s)
		}
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return time.Time{}, fmt.Errorf("timestamp %q is outside the years 1-9999", s)
		}
		return t.UTC(), nil
	case isNumber(c):
		n := d.number()
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %s is neither ISO 8601 nor epoch seconds", n)
		}
		if f < minEpoch || f > maxEpoch {
			return time.Time{}, fmt.Errorf("timestamp %s is outside the years 1-9999", n)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("timestamp is %s, neither ISO 8601 nor epoch seconds", kindOf(c))
}
