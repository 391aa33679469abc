package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// healthMsg says whether the cluster's API answered, and how many of its nodes
// are Ready (total 0: not known).
type healthMsg struct {
	err          error
	ready, total int
}

// healthEvery is how often the UI asks the API whether it is there: watches retry
// quietly when a cluster disappears, so without this the screen would show stale
// verdicts as if nothing happened.
const healthEvery = 5 * time.Second

// reconnectedMsg brings a new engine for a cluster that answers again under a new
// address or credentials.
type reconnectedMsg struct{ eng Engine }

// checkHealth waits, then pings the API; when it does not answer and the UI can
// reconnect, it tries a new session. It returns nothing once the UI ends, so it
// never outlives it.
func checkHealth(d *deps, after time.Duration) tea.Cmd {
	eng, reconnect := d.eng, d.reconnect // read here, on the UI's goroutine
	return func() tea.Msg {
		select {
		case <-d.ctx.Done():
			return nil
		case <-time.After(after):
		}
		ctx, cancel := context.WithTimeout(d.ctx, 3*time.Second)
		defer cancel()
		err := eng.Ping(ctx)
		if err != nil && reconnect != nil {
			rctx, rcancel := context.WithTimeout(d.ctx, 10*time.Second)
			defer rcancel()
			if neng, rerr := reconnect(rctx); rerr == nil {
				return reconnectedMsg{eng: neng}
			}
		}
		if d.ctx.Err() != nil {
			return nil
		}
		msg := healthMsg{err: err}
		if err == nil {
			msg.ready, msg.total, _ = eng.Nodes(ctx)
		}
		return msg
	}
}

// restartKey starts a cluster that stopped answering again, as `kindlab up` does
// (a stopped node is started, everything in it kept); recreateKey recreates it.
// Both only when the UI can start a cluster.
var (
	restartKey  = key.NewBinding(key.WithKeys("U"))
	recreateKey = key.NewBinding(key.WithKeys("R"))
)

// clusterProblem is the status line while the API does not answer.
func (m Model) clusterProblem() string {
	if m.d.startup != nil {
		return tr(m.lang,
			"⚠ Cluster down: U starts it again (keeps its objects), R recreates it (keeps your progress) — "+short(m.clusterDown.Error()),
			"⚠ 클러스터 응답 없음: U 다시 시작 (오브젝트 유지), R 새로 만들기 (진행 기록 유지) — "+short(m.clusterDown.Error()))
	}
	return tr(m.lang,
		"⚠ the cluster does not answer ("+short(m.clusterDown.Error())+"): start it again with `kindlab up` (or `kindlab up --recreate`) in another terminal; the checks resume by themselves",
		"⚠ 클러스터가 응답하지 않습니다 ("+short(m.clusterDown.Error())+"): 다른 터미널에서 `kindlab up` (또는 `kindlab up --recreate`) 으로 다시 시작하세요. 검사는 저절로 다시 이어집니다")
}

func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
