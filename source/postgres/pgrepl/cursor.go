package pgrepl

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// cursor reads big-endian fields from a message. The first short read is
// recorded in err and every later read returns zero values, so decoders
// check err once at the end instead of after every field.
type cursor struct {
	buf []byte
	off int
	err error
	// what names the message being decoded, for error messages.
	what string
}

func (c *cursor) need(n int, field string) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || len(c.buf)-c.off < n {
		c.err = fmt.Errorf("%s: truncated at byte %d reading %s", c.what, c.off, field)
		return false
	}
	return true
}

func (c *cursor) u8(field string) byte {
	if !c.need(1, field) {
		return 0
	}
	v := c.buf[c.off]
	c.off++
	return v
}

func (c *cursor) u16(field string) uint16 {
	if !c.need(2, field) {
		return 0
	}
	v := binary.BigEndian.Uint16(c.buf[c.off:])
	c.off += 2
	return v
}

func (c *cursor) u32(field string) uint32 {
	if !c.need(4, field) {
		return 0
	}
	v := binary.BigEndian.Uint32(c.buf[c.off:])
	c.off += 4
	return v
}

func (c *cursor) u64(field string) uint64 {
	if !c.need(8, field) {
		return 0
	}
	v := binary.BigEndian.Uint64(c.buf[c.off:])
	c.off += 8
	return v
}

// cstr reads a NUL-terminated string (the NUL is consumed, not returned).
func (c *cursor) cstr(field string) string {
	if c.err != nil {
		return ""
	}
	i := bytes.IndexByte(c.buf[c.off:], 0)
	if i < 0 {
		c.err = fmt.Errorf("%s: unterminated string at byte %d reading %s", c.what, c.off, field)
		return ""
	}
	s := string(c.buf[c.off : c.off+i])
	c.off += i + 1
	return s
}

// bytes reads n bytes. They alias buf, which Decode has made a private
// copy of, so the result outlives the receive buffer.
func (c *cursor) bytes(n int, field string) []byte {
	if !c.need(n, field) {
		return nil
	}
	b := c.buf[c.off : c.off+n : c.off+n]
	c.off += n
	return b
}

// end reports the first error, or an error if bytes are left over.
func (c *cursor) end() error {
	if c.err != nil {
		return c.err
	}
	if c.off != len(c.buf) {
		return fmt.Errorf("%s: %d unexpected trailing bytes", c.what, len(c.buf)-c.off)
	}
	return nil
}
