package cluster

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Placement constraint types.
const (
	ConstraintDistinctInstance = "distinctInstance"
	ConstraintMemberOf         = "memberOf"
)

// Predicate tells whether an instance satisfies a constraint or query.
type Predicate func(*Instance) bool

// ParseQuery compiles a cluster query language expression into a predicate. It covers
// the part of the language that container-instance queries use in practice:
// comparisons on attribute:NAME, ec2InstanceId, agentConnected and runningTasksCount
// with ==, !=, >, >=, <, <=, in, !in, exists, !exists, =~ and !~ (where * is the
// wildcard), joined by and/or (and binds tighter). Anything else is an error rather
// than a silent mismatch. (ECS Developer Guide, "Cluster query language".)
func ParseQuery(expr string) (Predicate, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	var ors []Predicate
	var ands []Predicate
	for len(toks) > 0 {
		p, rest, err := parseComparison(toks)
		if err != nil {
			return nil, fmt.Errorf("expression %q: %w", expr, err)
		}
		ands = append(ands, p)
		toks = rest
		if len(toks) == 0 {
			break
		}
		switch strings.ToLower(toks[0]) {
		case "and":
		case "or":
			ors = append(ors, all(ands))
			ands = nil
		default:
			return nil, fmt.Errorf("expression %q: expected and/or, got %q", expr, toks[0])
		}
		toks = toks[1:]
		if len(toks) == 0 {
			return nil, fmt.Errorf("expression %q: ends with an operator", expr)
		}
	}
	ors = append(ors, all(ands))
	if len(ors) == 1 {
		return ors[0], nil
	}
	return func(i *Instance) bool {
		for _, p := range ors {
			if p(i) {
				return true
			}
		}
		return false
	}, nil
}

func all(ps []Predicate) Predicate {
	if len(ps) == 1 {
		return ps[0]
	}
	return func(i *Instance) bool {
		for _, p := range ps {
			if !p(i) {
				return false
			}
		}
		return true
	}
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for k := 0; k < len(s); {
		switch ch := s[k]; {
		case ch == ' ' || ch == '\t' || ch == '\n':
			k++
		case ch == '[' || ch == '(':
			closer := byte(']')
			if ch == '(' {
				closer = ')'
			}
			end := strings.IndexByte(s[k:], closer)
			if end < 0 {
				return nil, fmt.Errorf("unclosed %q in %q", string(ch), s)
			}
			toks = append(toks, s[k:k+end+1])
			k += end + 1
		default:
			end := k
			for end < len(s) && s[end] != ' ' && s[end] != '\t' && s[end] != '\n' {
				end++
			}
			toks = append(toks, s[k:end])
			k = end
		}
	}
	return toks, nil
}

func parseComparison(toks []string) (Predicate, []string, error) {
	if len(toks) < 2 {
		return nil, nil, fmt.Errorf("incomplete comparison %q", strings.Join(toks, " "))
	}
	get, numeric, err := subject(toks[0])
	if err != nil {
		return nil, nil, err
	}
	op := toks[1]
	switch op {
	case "exists":
		return func(i *Instance) bool { _, ok := get(i); return ok }, toks[2:], nil
	case "!exists":
		return func(i *Instance) bool { _, ok := get(i); return !ok }, toks[2:], nil
	}
	if len(toks) < 3 {
		return nil, nil, fmt.Errorf("operator %q without a value", op)
	}
	raw := toks[2]
	rest := toks[3:]
	switch op {
	case "==", "!=":
		want := unquote(raw)
		eq := op == "=="
		return func(i *Instance) bool { v, ok := get(i); return negate(ok, v == want, eq) }, rest, nil
	case "in", "!in":
		set := map[string]bool{}
		if !(strings.HasPrefix(raw, "[") || strings.HasPrefix(raw, "(")) {
			return nil, nil, fmt.Errorf("operator %s needs a list, got %q", op, raw)
		}
		for v := range strings.SplitSeq(raw[1:len(raw)-1], ",") {
			set[unquote(strings.TrimSpace(v))] = true
		}
		in := op == "in"
		return func(i *Instance) bool { v, ok := get(i); return negate(ok, set[v], in) }, rest, nil
	case "=~", "!~":
		re, err := wildcard(unquote(raw))
		if err != nil {
			return nil, nil, err
		}
		match := op == "=~"
		return func(i *Instance) bool { v, ok := get(i); return negate(ok, ok && re.MatchString(v), match) }, rest, nil
	case ">", ">=", "<", "<=":
		if !numeric {
			return nil, nil, fmt.Errorf("operator %s on %s is not supported", op, toks[0])
		}
		want, err := strconv.Atoi(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("operator %s needs a number, got %q", op, raw)
		}
		cmp := map[string]func(a, b int) bool{
			">": func(a, b int) bool { return a > b }, ">=": func(a, b int) bool { return a >= b },
			"<": func(a, b int) bool { return a < b }, "<=": func(a, b int) bool { return a <= b },
		}[op]
		return func(i *Instance) bool {
			v, ok := get(i)
			n, err := strconv.Atoi(v)
			return ok && err == nil && cmp(n, want)
		}, rest, nil
	}
	return nil, nil, fmt.Errorf("operator %q is not supported", op)
}

// negate applies a positive or negative operator: a value that is absent matches no
// positive operator and every negative one (an instance without attribute:tier is
// "tier != batch").
func negate(present, holds, positive bool) bool {
	if !present {
		return !positive
	}
	return holds == positive
}

// subject returns an accessor for a query subject and whether it is numeric.
func subject(s string) (func(*Instance) (string, bool), bool, error) {
	if name, ok := strings.CutPrefix(s, "attribute:"); ok && name != "" {
		return func(i *Instance) (string, bool) { return i.Attribute(name) }, false, nil
	}
	switch s {
	case "ec2InstanceId":
		return func(i *Instance) (string, bool) { return i.EC2InstanceID, i.EC2InstanceID != "" }, false, nil
	case "agentConnected":
		return func(i *Instance) (string, bool) { return strconv.FormatBool(i.AgentConnected), true }, false, nil
	case "runningTasksCount":
		return func(i *Instance) (string, bool) { return strconv.Itoa(i.RunningTasksCount()), true }, true, nil
	}
	return nil, false, fmt.Errorf("query subject %q is not supported", s)
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

func wildcard(pattern string) (*regexp.Regexp, error) {
	parts := strings.Split(pattern, "*")
	for k := range parts {
		parts[k] = regexp.QuoteMeta(parts[k])
	}
	return regexp.Compile("^" + strings.Join(parts, ".*") + "$")
}

// constraint is a compiled placement constraint.
type constraint struct {
	distinct bool
	member   Predicate
}

func parseConstraint(pc PlacementConstraint) (constraint, error) {
	switch pc.Type {
	case ConstraintDistinctInstance:
		return constraint{distinct: true}, nil
	case ConstraintMemberOf:
		p, err := ParseQuery(pc.Expression)
		if err != nil {
			return constraint{}, fmt.Errorf("placement constraint memberOf: %w", err)
		}
		return constraint{member: p}, nil
	}
	return constraint{}, fmt.Errorf("unknown placement constraint type %q", pc.Type)
}
