package sfn_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/sfn"
)

// fakeSFN answers StartExecution in the Step Functions JSON protocol
// (awsJson1_0): the first execution of a name starts, a repeat is
// ExecutionAlreadyExists.
type fakeSFN struct {
	mu    sync.Mutex
	execs map[string]string // name -> input
}

func (f *fakeSFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSStepFunctions.StartExecution" {
		http.Error(w, "unexpected target "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	var in struct{ StateMachineArn, Name, Input string }
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.ContainsAny(in.Name, " <>{}") {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"InvalidName","message":"Invalid Name: '`+in.Name+`'"}`)
		return
	}
	if _, ok := f.execs[in.Name]; ok {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists","message":"Execution Already Exists: '`+in.Name+`'"}`)
		return
	}
	f.execs[in.Name] = in.Input
	io.WriteString(w, `{"executionArn":"`+strings.Replace(in.StateMachineArn, ":stateMachine:", ":execution:", 1)+`:`+in.Name+`","startDate":1.7e9}`)
}

func TestStarter(t *testing.T) {
	fake := &fakeSFN{execs: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client, err := sfn.NewClient(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	st := sfn.NewStarter(client, "arn:aws:states:us-east-1:111122223333:stateMachine:Batch")
	for i, want := range []bool{true, false, false} {
		started, err := st.Start(t.Context(), "file-abc", []byte(`{"file":{"bucket":"b","key":"k"}}`))
		if err != nil || started != want {
			t.Fatalf("start %d: started %v err %v, want %v", i, started, err, want)
		}
	}
	if got := fake.execs["file-abc"]; got != `{"file":{"bucket":"b","key":"k"}}` {
		t.Errorf("execution input %q", got)
	}
	if _, err := st.Start(t.Context(), "bad name", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "starting execution bad name") || !strings.Contains(err.Error(), "InvalidName") {
		t.Errorf("invalid name: %v", err)
	}
}
