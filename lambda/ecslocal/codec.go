package ecslocal

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// The ECS JSON 1.1 protocol names every member like the SDK's Go field with a
// lower-case first letter (containerInstanceArn, ec2InstanceId, id), sends timestamps
// as epoch seconds, and omits what is unset. One reflective codec serves every
// operation: decode a request body into the SDK's input struct, encode the SDK's output
// struct as the response.

var timeType = reflect.TypeOf(time.Time{})

func jsonName(field string) string {
	r := []rune(field)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// skip reports fields that are not members: the SDK's middleware metadata and its
// unexported serde markers.
func skip(f reflect.StructField) bool {
	return !f.IsExported() || f.Name == "ResultMetadata"
}

// encode turns an SDK output value into JSON-ready values.
func encode(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return encode(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			return float64(t.UnixNano()) / 1e9, true
		}
		out := map[string]any{}
		for k := range v.NumField() {
			f := v.Type().Field(k)
			if skip(f) {
				continue
			}
			if e, ok := encode(v.Field(k)); ok {
				out[jsonName(f.Name)] = e
			}
		}
		return out, true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		out := make([]any, 0, v.Len())
		for k := range v.Len() {
			e, _ := encode(v.Index(k))
			out = append(out, e)
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		out := map[string]any{}
		for _, key := range v.MapKeys() {
			e, _ := encode(v.MapIndex(key))
			out[key.String()] = e
		}
		return out, true
	case reflect.String:
		// Enums are string types: unset ones are empty and omitted.
		return v.String(), v.String() != ""
	}
	return v.Interface(), true
}

// decode fills the SDK input struct dst from a JSON request body; a member the input
// does not have is an error, so nothing a caller sends is silently ignored.
func decode(body []byte, dst any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return fmt.Errorf("request body is not JSON: %v", err)
	}
	return assign(reflect.ValueOf(dst).Elem(), raw, "")
}

func assign(dst reflect.Value, raw any, path string) error {
	if raw == nil {
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		if err := assign(v.Elem(), raw, path); err != nil {
			return err
		}
		dst.Set(v)
		return nil
	case reflect.Struct:
		if dst.Type() == timeType {
			f, ok := raw.(float64)
			if !ok {
				return fmt.Errorf("%s: want epoch seconds", path)
			}
			sec, frac := math.Modf(f)
			dst.Set(reflect.ValueOf(time.Unix(int64(sec), int64(frac*1e9)).UTC()))
			return nil
		}
		obj, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object", path)
		}
		fields := map[string]int{}
		for k := range dst.NumField() {
			if f := dst.Type().Field(k); !skip(f) {
				fields[jsonName(f.Name)] = k
			}
		}
		for name, v := range obj {
			k, ok := fields[name]
			if !ok {
				return fmt.Errorf("unknown member %s%s", path, name)
			}
			if err := assign(dst.Field(k), v, path+name+"."); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list", path)
		}
		out := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for k, v := range arr {
			if err := assign(out.Index(k), v, path); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return fmt.Errorf("%s: want a string", path)
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return fmt.Errorf("%s: want a boolean", path)
		}
		dst.SetBool(b)
		return nil
	case reflect.Int32, reflect.Int64, reflect.Int:
		f, ok := raw.(float64)
		if !ok || f != math.Trunc(f) {
			return fmt.Errorf("%s: want an integer", path)
		}
		dst.SetInt(int64(f))
		return nil
	case reflect.Float64:
		f, ok := raw.(float64)
		if !ok {
			return fmt.Errorf("%s: want a number", path)
		}
		dst.SetFloat(f)
		return nil
	}
	return fmt.Errorf("%s: unsupported member type %s", path, dst.Type())
}
