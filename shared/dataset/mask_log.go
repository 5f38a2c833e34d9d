package dataset

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// MaskingHandler wraps a log handler so that no e-mail address reaches a
// log line: the message and every attribute's text (strings, errors,
// Stringers and any other value as it prints) go through MaskEmails. The
// Lambda functions and the local stack log through it.
func MaskingHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(maskingHandler); ok {
		return h
	}
	return maskingHandler{h}
}

type maskingHandler struct{ h slog.Handler }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, MaskEmails(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.h.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{m.h.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{m.h.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(MaskEmails(v.String()))
	case slog.KindGroup:
		g := v.Group()
		masked := make([]slog.Attr, len(g))
		for i, ga := range g {
			masked[i] = maskAttr(ga)
		}
		a.Value = slog.GroupValue(masked...)
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		default:
			s = fmt.Sprint(x)
		}
		if strings.IndexByte(s, '@') >= 0 {
			a.Value = slog.StringValue(MaskEmails(s))
		} else {
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}
