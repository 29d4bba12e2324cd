package pgrepl

import "testing"

// BenchmarkDecodeInsert decodes a 6-column Insert, the most common message.
func BenchmarkDecodeInsert(b *testing.B) {
	payload, err := Append(nil, Insert{RelationID: 16384, New: Tuple{
		{Kind: TupleText, Data: []byte("123456")}, {Kind: TupleText, Data: []byte("a product name of some length")},
		{Kind: TupleText, Data: []byte("42")}, {Kind: TupleNull},
		{Kind: TupleText, Data: []byte("2026-11-23 02:05:22.123456")}, {Kind: TupleText, Data: []byte("1234.50")}}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(payload); err != nil {
			b.Fatal(err)
		}
	}
}
