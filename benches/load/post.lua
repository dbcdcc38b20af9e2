-- wrk: POST the GraphQL request in the file $WRK_BODY_FILE, as JSON.
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "r"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = file:read("*a")
file:close()
