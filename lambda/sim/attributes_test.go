package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// ECS facts (Developer Guide "Attributes", PutAttributes API): names are 1-128 of
// letters, digits, - _ / and .; values 1-128 of letters, digits, - _ . @ / \ : and
// spaces, without leading or trailing whitespace; at most 10 custom attributes per
// instance (AttributeLimitExceededException); an unknown target is
// TargetNotFoundException.
func TestPutAttributes(t *testing.T) {
	attr := func(name string, value *string) types.Attribute {
		return types.Attribute{Name: str(name), Value: value, TargetType: types.TargetTypeContainerInstance}
	}
	tests := []struct {
		name     string
		existing int // custom attributes already on the instance
		attrs    []types.Attribute
		target   string // default: the instance's ARN
		errCode  string
	}{
		{name: "the drain marker with a timestamp value", attrs: []types.Attribute{attr("ecs-rebalancer.drained-at", str("2026-11-20T09:00:00Z"))}},
		{name: "name without value", attrs: []types.Attribute{attr("team/payments", nil)}},
		{name: "value with the allowed punctuation", attrs: []types.Attribute{attr("note", str(`a-b_c.d@e/f\g:h i`))}},
		{name: "name with a space", attrs: []types.Attribute{attr("bad name", nil)}, errCode: "InvalidParameterException"},
		{name: "name too long", attrs: []types.Attribute{attr(strings.Repeat("n", 129), nil)}, errCode: "InvalidParameterException"},
		{name: "value with a forbidden character", attrs: []types.Attribute{attr("x", str("a=b"))}, errCode: "InvalidParameterException"},
		{name: "value with a trailing space", attrs: []types.Attribute{attr("x", str("abc "))}, errCode: "InvalidParameterException"},
		{name: "empty value", attrs: []types.Attribute{attr("x", str(""))}, errCode: "InvalidParameterException"},
		{name: "unknown target", target: "ghost", attrs: []types.Attribute{attr("x", nil)}, errCode: "TargetNotFoundException"},
		{name: "the tenth custom attribute", existing: 9, attrs: []types.Attribute{attr("x", nil)}},
		{name: "the eleventh custom attribute", existing: 10, attrs: []types.Attribute{attr("x", nil)}, errCode: "AttributeLimitExceededException"},
		{name: "updating an existing one does not count twice", existing: 10, attrs: []types.Attribute{attr("custom-0", str("v2"))}},
		{name: "built-in attributes do not count", existing: 10, attrs: []types.Attribute{attr("ecs.os-type", str("linux"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			i := b.Instance("us-east-1a")
			for k := range tt.existing {
				i.SetAttribute(fmt.Sprintf("custom-%d", k), "v")
			}
			s := newSim(t, b)
			target := i.ARN
			if tt.target != "" {
				target = tt.target
			}
			for k := range tt.attrs {
				tt.attrs[k].TargetId = aws.String(target)
			}
			before := attributesOf(s, i)
			_, err := s.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: str("demo"), Attributes: tt.attrs})
			if code(err) != tt.errCode {
				t.Fatalf("PutAttributes: %v, want %q", err, tt.errCode)
			}
			after := attributesOf(s, i)
			if err != nil {
				if after != before {
					t.Errorf("a refused PutAttributes changed the instance")
				}
				return
			}
			for _, a := range tt.attrs {
				if !strings.Contains(after, *a.Name+"="+aws.ToString(a.Value)+";") {
					t.Errorf("attribute %s not set: %s", *a.Name, after)
				}
			}
		})
	}
}

func attributesOf(s interface{ View(func(*cluster.Cluster)) }, i *cluster.Instance) string {
	var out strings.Builder
	s.View(func(c *cluster.Cluster) {
		for _, a := range c.Instance(i.ARN).Attributes {
			out.WriteString(a.Name + "=" + a.Value + ";")
		}
	})
	return out.String()
}

func TestDeleteAttributes(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Attr("ecs-rebalancer.drained-at", "2026-11-20T09:00:00Z"))
	s := newSim(t, b)
	del := func(name, target string) error {
		_, err := s.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Cluster: str("demo"),
			Attributes: []types.Attribute{{Name: str(name), TargetId: str(target)}}})
		return err
	}
	if err := del("ecs-rebalancer.drained-at", i.ID()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(attributesOf(s, i), "drained-at") {
		t.Error("marker still present after DeleteAttributes")
	}
	if err := del("ecs-rebalancer.drained-at", i.ARN); err != nil {
		t.Errorf("deleting an absent attribute: %v", err)
	}
	if err := del("x", "ghost"); code(err) != "TargetNotFoundException" {
		t.Errorf("unknown target: %v", err)
	}
	if err := del("x", ""); code(err) != "InvalidParameterException" {
		t.Errorf("no target: %v", err)
	}
}

func TestAttributesShowInDescribe(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a")
	s := newSim(t, b)
	_, err := s.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: str("demo"), Attributes: []types.Attribute{
		{Name: str("ecs-rebalancer.drained-at"), Value: str("2026-11-20T09:00:00Z"), TargetId: str(i.ARN)}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: str("demo"), ContainerInstances: []string{i.ARN}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range out.ContainerInstances[0].Attributes {
		if aws.ToString(a.Name) == "ecs-rebalancer.drained-at" && aws.ToString(a.Value) == "2026-11-20T09:00:00Z" {
			found = true
		}
	}
	if !found || out.ContainerInstances[0].Version <= i.Version-1 {
		t.Errorf("marker not described: %+v", out.ContainerInstances[0].Attributes)
	}
}
