package pgrepl

import (
	"encoding/binary"
	"fmt"
)

// Append encodes m as pgoutput protocol version 1, the inverse of Decode.
// Test fakes use it to play a walsender; the replication client never
// sends these messages.
func Append(dst []byte, m Message) ([]byte, error) {
	be := binary.BigEndian
	dst = append(dst, m.Kind())
	switch m := m.(type) {
	case Begin:
		dst = be.AppendUint64(dst, uint64(m.FinalLSN))
		dst = be.AppendUint64(dst, uint64(PGMicros(m.CommitTime)))
		dst = be.AppendUint32(dst, m.Xid)
	case Commit:
		dst = append(dst, m.Flags)
		dst = be.AppendUint64(dst, uint64(m.CommitLSN))
		dst = be.AppendUint64(dst, uint64(m.EndLSN))
		dst = be.AppendUint64(dst, uint64(PGMicros(m.CommitTime)))
	case Origin:
		dst = be.AppendUint64(dst, uint64(m.CommitLSN))
		dst = appendCstr(dst, m.Name)
	case Relation:
		dst = be.AppendUint32(dst, m.ID)
		dst = appendCstr(dst, m.Namespace)
		dst = appendCstr(dst, m.Name)
		dst = append(dst, m.ReplicaIdentity)
		if len(m.Columns) > 0xFFFF {
			return nil, fmt.Errorf("Relation: %d columns", len(m.Columns))
		}
		dst = be.AppendUint16(dst, uint16(len(m.Columns)))
		for _, c := range m.Columns {
			var flags byte
			if c.Key {
				flags = 1
			}
			dst = append(dst, flags)
			dst = appendCstr(dst, c.Name)
			dst = be.AppendUint32(dst, c.TypeOID)
			dst = be.AppendUint32(dst, uint32(c.TypeMod))
		}
	case Type:
		dst = be.AppendUint32(dst, m.OID)
		dst = appendCstr(dst, m.Namespace)
		dst = appendCstr(dst, m.Name)
	case Insert:
		dst = be.AppendUint32(dst, m.RelationID)
		dst = append(dst, 'N')
		return appendTuple(dst, m.New)
	case Update:
		dst = be.AppendUint32(dst, m.RelationID)
		if m.OldKind != 0 {
			dst = append(dst, m.OldKind)
			var err error
			if dst, err = appendTuple(dst, m.Old); err != nil {
				return nil, err
			}
		}
		dst = append(dst, 'N')
		return appendTuple(dst, m.New)
	case Delete:
		dst = be.AppendUint32(dst, m.RelationID)
		dst = append(dst, m.OldKind)
		return appendTuple(dst, m.Old)
	case Truncate:
		dst = be.AppendUint32(dst, uint32(len(m.RelationIDs)))
		dst = append(dst, m.Options)
		for _, id := range m.RelationIDs {
			dst = be.AppendUint32(dst, id)
		}
	case LogicalMessage:
		var flags byte
		if m.Transactional {
			flags = 1
		}
		dst = append(dst, flags)
		dst = be.AppendUint64(dst, uint64(m.LSN))
		dst = appendCstr(dst, m.Prefix)
		dst = be.AppendUint32(dst, uint32(len(m.Content)))
		dst = append(dst, m.Content...)
	default:
		return nil, fmt.Errorf("pgoutput: cannot encode %T", m)
	}
	return dst, nil
}

func appendCstr(dst []byte, s string) []byte {
	return append(append(dst, s...), 0)
}

func appendTuple(dst []byte, t Tuple) ([]byte, error) {
	if len(t) > 0xFFFF {
		return nil, fmt.Errorf("tuple of %d columns", len(t))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(t)))
	for _, c := range t {
		dst = append(dst, c.Kind)
		if c.Kind == TupleText || c.Kind == TupleBinary {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(c.Data)))
			dst = append(dst, c.Data...)
		}
	}
	return dst, nil
}

// AppendXLogData appends a 'w' frame body carrying payload.
func AppendXLogData(dst []byte, start, serverEnd LSN, payload []byte) []byte {
	dst = append(dst, frameXLogData)
	dst = binary.BigEndian.AppendUint64(dst, uint64(start))
	dst = binary.BigEndian.AppendUint64(dst, uint64(serverEnd))
	dst = binary.BigEndian.AppendUint64(dst, 0)
	return append(dst, payload...)
}
