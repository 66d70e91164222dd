package lb

// choose returns the index in pool of the node the policy picks, or -1
// when the pool is empty. The caller holds b.mu.
func (b *Balancer) choose(pool []candidate) int {
	if len(pool) == 0 {
		return -1
	}
	switch b.policy {
	case LeastLoaded:
		return b.chooseLeastLoaded(pool)
	case Random:
		return b.rnd.IntN(len(pool))
	default:
		return b.chooseWeighted(pool)
	}
}

// chooseWeighted picks at random with probability proportional to weight.
func (b *Balancer) chooseWeighted(pool []candidate) int {
	w := b.weights[:0]
	total := 0.0
	for i := range pool {
		x := pool[i].weight()
		w = append(w, x)
		total += x
	}
	b.weights = w
	r := b.rnd.Float64() * total
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1 // rounding left r just above the last weight
}

// chooseLeastLoaded picks the largest free fraction, breaking ties uniformly at
// random (reservoir sampling over the tied candidates).
func (b *Balancer) chooseLeastLoaded(pool []candidate) int {
	best, ties := 0, 1
	bestH := pool[0].freeFraction()
	for i := 1; i < len(pool); i++ {
		h := pool[i].freeFraction()
		switch {
		case h > bestH:
			best, bestH, ties = i, h, 1
		case h == bestH:
			ties++
			if b.rnd.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}
