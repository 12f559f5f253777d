package ecsjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Unmarshal reads JSON into dst, a pointer to an SDK type (or a struct of them).
// Errors name the member: containerInstances[0].registeredAt: timestamp "yesterday" is
// neither ISO 8601 nor epoch seconds. An integer that does not fit its field is an
// error, never a wrapped value.
func Unmarshal(data []byte, dst any, unknown Unknown) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("ecsjson: Unmarshal into %T, want a non-nil pointer", dst)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // a longValue keeps all 64 bits
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return fmt.Errorf("data after the JSON value")
	}
	d := decoder{unknown: unknown}
	return d.assign(v.Elem(), raw, "")
}

type decoder struct{ unknown Unknown }

func (d decoder) assign(dst reflect.Value, raw any, path string) error {
	if raw == nil { // null: left unset
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		if err := d.assign(v.Elem(), raw, path); err != nil {
			return err
		}
		dst.Set(v)
		return nil
	case reflect.Struct:
		if dst.Type() == timeType {
			t, err := parseTime(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", orTop(path), err)
			}
			dst.Set(reflect.ValueOf(t))
			return nil
		}
		obj, ok := raw.(map[string]any)
		if !ok {
			return want(path, "an object", raw)
		}
		info := infoOf(dst.Type())
		for name, v := range obj {
			k, ok := info.byName[name]
			if !ok {
				if d.unknown == IgnoreUnknown {
					continue
				}
				return fmt.Errorf("unknown member %s", join(path, name))
			}
			if err := d.assign(dst.Field(info.fields[k].index), v, join(path, name)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok {
			return want(path, "a list", raw)
		}
		out := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for k, v := range arr {
			if err := d.assign(out.Index(k), v, fmt.Sprintf("%s[%d]", path, k)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.Map:
		obj, ok := raw.(map[string]any)
		if !ok || dst.Type().Key().Kind() != reflect.String {
			return want(path, "an object", raw)
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(obj))
		for key, v := range obj {
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := d.assign(elem, v, path+"."+key); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(key).Convert(dst.Type().Key()), elem)
		}
		dst.Set(out)
		return nil
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return want(path, "a string", raw)
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return want(path, "a boolean", raw)
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := raw.(json.Number)
		if !ok {
			return want(path, "an integer", raw)
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || dst.OverflowInt(i) {
			return fmt.Errorf("%s: %s is not an integer of %d bits", orTop(path), n, dst.Type().Bits())
		}
		dst.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := raw.(json.Number)
		if !ok {
			return want(path, "a number", raw)
		}
		f, err := n.Float64()
		if err != nil || dst.OverflowFloat(f) {
			return fmt.Errorf("%s: %s is not a number of %d bits", orTop(path), n, dst.Type().Bits())
		}
		dst.SetFloat(f)
		return nil
	}
	return fmt.Errorf("%s: unsupported member type %s", orTop(path), dst.Type())
}

func want(path, what string, raw any) error {
	return fmt.Errorf("%s: want %s, got %s", orTop(path), what, kindOf(raw))
}

func kindOf(raw any) string {
	switch raw.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", raw)
}

// maxEpoch is 9999-12-31T23:59:59Z: later instants have no ISO 8601 form to write back.
const maxEpoch = 253402300799

// parseTime reads CLI v2's ISO 8601 strings (any offset, any fraction) and the epoch
// seconds the raw API and CLI v1 give, to the microsecond, in UTC.
func parseTime(raw any) (time.Time, error) {
	switch v := raw.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is neither ISO 8601 nor epoch seconds", v)
		}
		return t.UTC(), nil
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %s is neither ISO 8601 nor epoch seconds", v)
		}
		if f < 0 || f > maxEpoch {
			return time.Time{}, fmt.Errorf("timestamp %s is outside the years 1970-9999", v)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("timestamp is %s, neither ISO 8601 nor epoch seconds", kindOf(raw))
}
