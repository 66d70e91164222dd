// Package authguard limits password guessing, as fail2ban does but in the
// process that sees the answers: it counts each client address's failed
// logins and locks the address out for a while after too many in a short
// time, each further lockout twice as long as the one before. Other
// addresses are never affected, and a success from an address clears it.
//
// A Guard keeps no goroutine: entries expire as it is used, and their
// number is capped, so that an attacker with many addresses costs a
// bounded amount of memory.
package authguard
