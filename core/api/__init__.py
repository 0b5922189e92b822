"""The HTTP API as data: the POST /call request model, the public view of a call, the route table and
the OpenAPI document generated from them. Pure: no I/O, no Functions SDK."""
