package alliance

import "time"

// SetReliabilityTTL makes s compute studies' own reliability again after
// d (tests; negative: on every write).
func SetReliabilityTTL(s *Service, d time.Duration) { s.reliabilities.ttl = d }

// SetNow makes s read the time from now (tests).
func SetNow(s *Service, now func() time.Time) { s.now = now }
