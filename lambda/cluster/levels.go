package cluster

import (
	"cmp"
	"math/bits"
	"slices"
)

// levels indexes the instance positions of a grouping by group and load, so the
// reachable target finds a service's least loaded instances without scanning every
// member of a group: at ECS's maximums that scan is 5,000 services x 5,000 instances
// per pass. Positions sit in one bitset per group and load level, in position order.
type levels struct {
	group []int        // position -> its group; -1 when in none
	sum   []int        // per group: the load of its members
	sets  [][][]uint64 // [group][load] -> bitset of positions
	count [][]int      // [group][load] -> members at that load
	words int
}

func newLevels(groups [][]int, positions int, load []int) *levels {
	x := &levels{group: make([]int, positions), sum: make([]int, len(groups)), sets: make([][][]uint64, len(groups)),
		count: make([][]int, len(groups)), words: (positions + 63) / 64}
	for k := range x.group {
		x.group[k] = -1
	}
	for g, members := range groups {
		for _, k := range members {
			x.group[k] = g
			x.add(k, load[k])
		}
	}
	return x
}

func (x *levels) add(k, l int) {
	g := x.group[k]
	for len(x.sets[g]) <= l {
		x.sets[g] = append(x.sets[g], nil)
		x.count[g] = append(x.count[g], 0)
	}
	if x.sets[g][l] == nil {
		x.sets[g][l] = make([]uint64, x.words)
	}
	x.sets[g][l][k/64] |= 1 << (k % 64)
	x.count[g][l]++
	x.sum[g] += l
}

// move records that position k's load went from l to m.
func (x *levels) move(k, l, m int) {
	g := x.group[k]
	if g < 0 || l == m {
		return
	}
	x.sets[g][l][k/64] &^= 1 << (k % 64)
	x.count[g][l]--
	x.sum[g] -= l
	x.add(k, m)
}

// lowest returns the r members of group g that come first by load, then by the tasks
// the service has on them (cur), then by position: the order place's better gives when
// every member holds the same extra.
func (x *levels) lowest(g, r int, cur map[int]int) []int {
	if r <= 0 {
		return nil
	}
	out := make([]int, 0, r)
	var held []int // members of g at the current level where the service runs
	for l, n := range x.count[g] {
		if n == 0 {
			continue
		}
		held = held[:0]
		for k := range cur {
			if x.group[k] == g && x.sets[g][l][k/64]&(1<<(k%64)) != 0 {
				held = append(held, k)
			}
		}
		slices.SortFunc(held, func(a, b int) int { return cmp.Or(cur[b]-cur[a], a-b) })
		for _, k := range held {
			if out = append(out, k); len(out) == r {
				return out
			}
		}
		for w, word := range x.sets[g][l] {
			for word != 0 {
				k := w*64 + bits.TrailingZeros64(word)
				word &= word - 1
				if cur[k] > 0 {
					continue // taken above
				}
				if out = append(out, k); len(out) == r {
					return out
				}
			}
		}
	}
	return out
}
