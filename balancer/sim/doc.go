// Package sim is the host model behind `vsched simulate`: it loads and
// validates scenarios (LoadScenario), runs a balancer.Policy over one
// (Simulate) and judges the result in the command's JSON shape (Result).
//
// One iteration is one interval. Each pCPU is shared max-min fairly
// (water-filling) between its vCPUs and its background load; a vCPU runs
// what it got and waits for the rest. A spin-waiting VM ("spin": true)
// asks for the whole pCPU while its pCPU is over-committed, so its run
// plus wait reads 100% although its useful demand is unchanged. Balance
// is judged on useful demand, background included: best_spread is exact
// when a greedy placement meets a lower bound or a branch and bound over
// the demands finishes (hosts of up to 16 pCPUs); beyond that it is a
// sound lower bound, so "balanced" is never claimed too early.
//
// The package does no I/O beyond the io.Reader it is given, reads no clock
// and imports neither libvirt nor logrus; it imports balancer, never the
// other way round.
package sim
