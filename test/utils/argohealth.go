package utils

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ArgoHealth runs a health check from argocd-cm the way Argo CD does (argo-cd
// util/lua/lua.go, VM.runLua and ExecuteHealthLua): a fresh gopher-lua state with only the
// package, base and table libraries (scripts from argocd-cm do not get the others unless
// useOpenLibs is set; Argo CD's restricted os library is left out, the script does not use
// it), a one second limit, the object as the global obj, and the returned table's status
// and message.
func ArgoHealth(script string, obj map[string]any) (health, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", luaValue(l, obj))

	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	hs, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the health check must return a table, returned %s", l.Get(-1).Type())
	}
	status, ok := hs.RawGetString("status").(lua.LString)
	if !ok {
		return "", "", fmt.Errorf("hs.status is %s, not a string", hs.RawGetString("status").Type())
	}
	if m := hs.RawGetString("message"); m != lua.LNil {
		s, ok := m.(lua.LString)
		if !ok {
			return "", "", fmt.Errorf("hs.message is %s, not a string", m.Type())
		}
		message = string(s)
	}
	return string(status), message, nil
}

// luaValue converts an unstructured object to Lua values as Argo CD's decodeValue does.
func luaValue(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []any:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(luaValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetH(lua.LString(key), luaValue(l, item))
		}
		return tbl
	}
	return lua.LNil
}
