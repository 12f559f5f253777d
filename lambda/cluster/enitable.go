package cluster

// eniLimits are the awsvpc tasks one instance type can run: without ENI trunking (its
// network interfaces less the primary one) and with it (less the trunk interface too);
// trunk 0 means the type does not support trunking.
type eniLimits struct{ plain, trunk int }

// eniTable holds common EC2 instance types. The limits with and without trunking are
// the ECS Developer Guide's table ("Increasing Amazon ECS Linux container instance
// network interfaces", "Supported Amazon EC2 instance types"); the burstable t3 and t3a
// types, which do not support trunking, are their maximum network interfaces less one
// (Amazon EC2 User Guide, "Network specifications"). A type missing here is not
// limited, and the read notes it.
var eniTable = func() map[string]eniLimits {
	// Sizes in the order of each pattern's limits.
	gen5 := []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"}
	gen5Limits := []eniLimits{{2, 10}, {3, 20}, {3, 40}, {7, 60}, {7, 60}, {7, 60}, {14, 120}, {14, 120}}
	c5 := []string{"large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge"}
	gen6x86 := []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "metal"}
	gen6x86Limits := []eniLimits{{2, 10}, {3, 20}, {3, 40}, {7, 60}, {7, 90}, {7, 120}, {14, 120}, {14, 120}, {14, 120}, {14, 120}}
	graviton := []string{"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"}
	gravitonLimits := []eniLimits{{1, 4}, {2, 10}, {3, 20}, {3, 40}, {7, 60}, {7, 60}, {7, 60}, {14, 120}, {14, 120}}
	burst := []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}
	burstLimits := []eniLimits{{1, 0}, {1, 0}, {2, 0}, {2, 0}, {2, 0}, {3, 0}, {3, 0}}

	t := map[string]eniLimits{}
	add := func(families []string, sizes []string, limits []eniLimits) {
		for _, f := range families {
			for n, size := range sizes {
				t[f+"."+size] = limits[n]
			}
		}
	}
	add([]string{"m5", "m5a", "m5d", "r5a", "r5d"}, gen5, gen5Limits)
	add([]string{"c5", "c5d"}, c5, gen5Limits)
	add([]string{"m6i", "m6a", "c6i", "c6a", "r6i", "r6a"}, gen6x86, gen6x86Limits)
	add([]string{"m6a", "c6a", "r6a"}, []string{"48xlarge"}, []eniLimits{{14, 120}})
	add([]string{"m6g", "m6gd", "m7g", "c6g", "c6gd", "c7g", "r6g", "r6gd", "r7g"}, graviton, gravitonLimits)
	add([]string{"t3", "t3a"}, burst, burstLimits)
	// r5 has no 8xlarge with trunking (the guide lists it as unsupported) and m5d a metal.
	add([]string{"r5"}, []string{"large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "16xlarge", "24xlarge"},
		[]eniLimits{{2, 10}, {3, 20}, {3, 40}, {7, 60}, {7, 60}, {14, 120}, {14, 120}})
	t["r5.8xlarge"] = eniLimits{7, 0}
	t["m5d.metal"] = eniLimits{14, 120}
	return t
}()
