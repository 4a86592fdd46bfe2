' xipc com-serve from VBScript (docs/com.md): late binding on a ProgID
' whose class forwards every call to `xipc serve` (ping, echo, add).
'   xipc com-serve --register --progid Xipc.Demo --clsid {GUID} pipe://demo
'   cscript //nologo com_client.vbs Xipc.Demo
' tools/xipc/cli_com_test.sh runs it under wine and checks what it prints.
Set o = CreateObject(WScript.Arguments(0))
WScript.Echo "ping: " & o.ping
WScript.Echo "add: " & o.add(2, 3)
WScript.Echo "echo: " & o.echo("hello")
a = o.echo(Array(1, "two", 2.5, True))
WScript.Echo "array: " & LBound(a) & ".." & UBound(a) & " " & a(0) & " " & a(1) & " " & a(2) & " " & a(3)
WScript.Echo "null: " & IsNull(o.echo(Null))
On Error Resume Next
o.nosuch 1
WScript.Echo "error: " & Hex(Err.Number) & " " & Err.Description
