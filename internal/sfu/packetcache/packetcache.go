// Package packetcache keeps the most recent RTP packets of one track so that
// lost packets can be sent again when a subscriber asks for them (NACK).
//
// A packet is stored once per publisher and shared by every subscriber of the
// track; a slot is chosen by sequence number, so lookups cost no search.
package packetcache

import "sync"

// MaxPacketSize is the largest packet the cache keeps (the Ethernet MTU).
const MaxPacketSize = 1500

// Cache is a ring of packets indexed by RTP sequence number. It is safe for one
// writer and many readers at once.
type Cache struct {
	mu      sync.Mutex
	mask    uint16
	latest  uint16
	started bool
	lengths []uint16 // 0 marks an empty slot
	seqs    []uint16
	data    []byte // len(lengths) slots of MaxPacketSize bytes
}

// New returns a cache of size packets, rounded up to a power of two between 16
// and 32768.
func New(size int) *Cache {
	n := 16
	for n < size && n < 32768 {
		n *= 2
	}
	return &Cache{
		mask:    uint16(n - 1),
		lengths: make([]uint16, n),
		seqs:    make([]uint16, n),
		data:    make([]byte, n*MaxPacketSize),
	}
}

// Size is the number of packets the cache holds.
func (c *Cache) Size() int { return len(c.lengths) }

// Store copies pkt into the slot of its sequence number. Packets larger than
// MaxPacketSize, or older than the cache window, are not stored.
func (c *Cache) Store(seq uint16, pkt []byte) {
	if len(pkt) == 0 || len(pkt) > MaxPacketSize {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		c.started, c.latest = true, seq
	} else if diff := seq - c.latest; diff < 0x8000 {
		c.latest = seq
	} else if c.latest-seq > c.mask {
		return // too old to be useful, and would evict a newer packet
	}
	i := int(seq & c.mask)
	copy(c.data[i*MaxPacketSize:], pkt)
	c.lengths[i] = uint16(len(pkt))
	c.seqs[i] = seq
}

// Get copies the packet with sequence number seq into dst and returns its
// length, or 0 if the packet is not in the cache or dst is too small.
func (c *Cache) Get(seq uint16, dst []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started || c.latest-seq > c.mask {
		return 0
	}
	i := int(seq & c.mask)
	n := int(c.lengths[i])
	if n == 0 || c.seqs[i] != seq || len(dst) < n {
		return 0
	}
	return copy(dst, c.data[i*MaxPacketSize:i*MaxPacketSize+n])
}
