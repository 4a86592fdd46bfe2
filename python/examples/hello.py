import xipc                                      # python/xipc: ctypes, no compiler
with xipc.listen("shm://hello-py") as l, xipc.dial("shm://hello-py", timeout=1) as c:
    c.send(b"hi")
    with l.accept(timeout=1) as s:
        print(s.recv(timeout=1))                 # b'hi'
