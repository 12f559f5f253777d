package ecsjson

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Marshal writes v (an SDK type, or a struct of them) as compact JSON.
func Marshal(v any, times Times) ([]byte, error) {
	e := encoder{times: times}
	if _, err := e.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	if e.buf == nil {
		return []byte("null"), nil
	}
	return e.buf, nil
}

type encoder struct {
	buf   []byte
	times Times
}

// value appends v and reports whether it wrote anything: an unset member is left out.
func (e *encoder) value(v reflect.Value) (bool, error) {
	switch v.Kind() {
	case reflect.Invalid:
		return false, nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return false, nil
		}
		return e.value(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			e.time(v.Interface().(time.Time))
			return true, nil
		}
		return true, e.object(v)
	case reflect.Slice:
		if v.IsNil() {
			return false, nil
		}
		e.buf = append(e.buf, '[')
		for k := range v.Len() {
			if k > 0 {
				e.buf = append(e.buf, ',')
			}
			wrote, err := e.value(v.Index(k))
			if err != nil {
				return false, at(err, "["+strconv.Itoa(k)+"]")
			}
			if !wrote {
				e.buf = append(e.buf, "null"...)
			}
		}
		e.buf = append(e.buf, ']')
		return true, nil
	case reflect.Map:
		if v.IsNil() {
			return false, nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return false, fail("map keys of type %s", v.Type().Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.buf = append(e.buf, '{')
		for k, key := range keys {
			if k > 0 {
				e.buf = append(e.buf, ',')
			}
			e.string(key.String())
			e.buf = append(e.buf, ':')
			wrote, err := e.value(v.MapIndex(key))
			if err != nil {
				return false, at(err, key.String())
			}
			if !wrote {
				e.buf = append(e.buf, "null"...)
			}
		}
		e.buf = append(e.buf, '}')
		return true, nil
	case reflect.String:
		// The SDK's enums are string types; an unset one is empty.
		if v.Len() == 0 {
			return false, nil
		}
		e.string(v.String())
		return true, nil
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
		return true, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		return true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
		return true, nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false, fail("%v has no JSON form", f)
		}
		e.float(f)
		return true, nil
	}
	return false, fail("unsupported type %s", v.Type())
}

func (e *encoder) object(v reflect.Value) error {
	e.buf = append(e.buf, '{')
	first := true
	for _, f := range infoOf(v.Type()).fields {
		mark := len(e.buf)
		if !first {
			e.buf = append(e.buf, ',')
		}
		e.string(f.name)
		e.buf = append(e.buf, ':')
		wrote, err := e.value(v.FieldByIndex(f.index))
		if err != nil {
			return at(err, f.name)
		}
		if !wrote {
			e.buf = e.buf[:mark]
			continue
		}
		first = false
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) time(t time.Time) {
	if e.times == ISO8601 {
		e.string(FormatTime(t))
		return
	}
	// Not UnixNano: it overflows outside the years 1678-2262.
	e.float(float64(t.Unix()) + float64(t.Nanosecond())/1e9)
}

// float writes like encoding/json: plain digits unless the exponent is extreme.
func (e *encoder) float(f float64) {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
}

// string writes a JSON string; invalid UTF-8 becomes U+FFFD, as encoding/json does.
func (e *encoder) string(s string) {
	const hex = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	for k := 0; k < len(s); {
		c := s[k]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				e.buf = append(e.buf, '\\', c)
			case c == '\n':
				e.buf = append(e.buf, '\\', 'n')
			case c == '\r':
				e.buf = append(e.buf, '\\', 'r')
			case c == '\t':
				e.buf = append(e.buf, '\\', 't')
			case c < 0x20:
				e.buf = append(e.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				e.buf = append(e.buf, c)
			}
			k++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[k:])
		if r == utf8.RuneError && n == 1 {
			e.buf = append(e.buf, `\ufffd`...)
		} else {
			e.buf = append(e.buf, s[k:k+n]...)
		}
		k += n
	}
	e.buf = append(e.buf, '"')
}

// FormatTime formats like the AWS CLI v2 (Python's isoformat in UTC):
// 2026-11-20T09:00:00.123000+00:00, without the fraction when it is zero.
func FormatTime(t time.Time) string {
	u := t.UTC()
	s := u.Format("2006-01-02T15:04:05")
	if us := u.Nanosecond() / 1e3; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}
