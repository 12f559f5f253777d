package cluster

// ReachableByScan is Reachable without the level index.
func ReachableByScan(c *Cluster, movable func(*Service) bool) Reach {
	indexLevels = false
	defer func() { indexLevels = true }()
	return c.Reachable(movable)
}
