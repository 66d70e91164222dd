package statuspage

import (
	"encoding/json"
	"reflect"
	"sync"
)

// An event is one message of the event stream, already encoded.
type event struct {
	name  string // "status", "title" or "listeners"
	mount string // the mount it is about; "" for status
	data  []byte // JSON
}

// TitleEvent is the data of a "title" event: a mount's title or source
// state changed. It is also the now-playing JSON of a mount.
type TitleEvent struct {
	Mount       string `json:"mount"`
	Title       string `json:"title"`
	Live        bool   `json:"live"`
	Listeners   int    `json:"listeners"`
	BitrateKbps int    `json:"bitrate_kbps,omitempty"`
	Codec       string `json:"codec,omitempty"`
}

// ListenersEvent is the data of a "listeners" event: the cluster-wide
// listeners of a mount changed.
type ListenersEvent struct {
	Mount     string `json:"mount"`
	Listeners int    `json:"listeners"`
	Total     int    `json:"total"`
}

func nowPlaying(m MountView) TitleEvent {
	return TitleEvent{Mount: m.Path, Title: m.Title, Live: m.Live, Listeners: m.Listeners, BitrateKbps: m.BitrateKbps, Codec: m.Codec}
}

// hub fans events out to the event stream's subscribers. A subscriber
// that does not keep up is dropped: its channel is closed, its request
// ends and its EventSource reconnects.
type hub struct {
	max int // subscribers at most

	mu   sync.Mutex
	subs map[chan event]struct{}
	last *Status
}

func newHub(max int) *hub { return &hub{max: max, subs: map[chan event]struct{}{}} }

// subscribe returns a channel of events and the last status seen; call
// cancel when done. The channel is nil when there are too many
// subscribers already.
func (h *hub) subscribe() (ch chan event, last *Status, cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= h.max {
		return nil, nil, nil
	}
	ch = make(chan event, 64)
	h.subs[ch] = struct{}{}
	return ch, h.last, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// update compares st with the last status and sends the changes.
func (h *hub) update(st Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	evs := changes(h.last, &st)
	h.last = &st
	for _, ev := range evs {
		for ch := range h.subs {
			select {
			case ch <- ev:
			default:
				delete(h.subs, ch)
				close(ch)
			}
		}
	}
}

// changes are the events that lead from old to cur: a title event per
// mount whose title or source state changed, a listeners event per mount
// whose listeners did, and a status event when anything shown changed.
func changes(old, cur *Status) []event {
	if old != nil && sameShown(*old, *cur) {
		return nil
	}
	before := map[string]MountView{}
	if old != nil {
		for _, m := range old.Mounts {
			before[m.Path] = m
		}
	}
	var evs []event
	for _, m := range cur.Mounts {
		b, seen := before[m.Path]
		if !seen || b.Title != m.Title || b.Live != m.Live {
			evs = append(evs, encode("title", m.Path, nowPlaying(m)))
		}
		if !seen || b.Listeners != m.Listeners {
			evs = append(evs, encode("listeners", m.Path, ListenersEvent{Mount: m.Path, Listeners: m.Listeners, Total: cur.Listeners}))
		}
	}
	return append(evs, encode("status", "", cur))
}

// sameShown reports whether two statuses show the same: their times
// aside, which change at every update.
func sameShown(a, b Status) bool {
	a.GeneratedAt = b.GeneratedAt
	an, bn := append([]NodeView(nil), a.Nodes...), append([]NodeView(nil), b.Nodes...)
	if len(an) != len(bn) {
		return false
	}
	for i := range an {
		an[i].UpdatedAt = bn[i].UpdatedAt
	}
	a.Nodes, b.Nodes = an, bn
	return reflect.DeepEqual(a, b)
}

func encode(name, mount string, v any) event {
	data, err := json.Marshal(v)
	if err != nil {
		panic("statuspage: encoding an event: " + err.Error()) // plain structs: cannot fail
	}
	return event{name: name, mount: mount, data: data}
}
