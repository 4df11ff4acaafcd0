package balancer

import "slices"

// sortFunc sorts l by a strict weak order given as less.
func sortFunc[T any](l []T, less func(a, b T) bool) {
	slices.SortFunc(l, func(a, b T) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
}
