"""Status pages written by hand, for what no captured fixture shows."""

from __future__ import annotations

#: The HTML page of an older release (2.4.41, event): no Protocol or Dur column, no graceful
#: or wait-io column, the columns in another order, an entity in the request line.
OLDER_PAGE = """<html><head><title>Apache Status</title></head><body>
<h1>Apache Server Status for example.com (via 10.0.0.1)</h1>
<dl><dt>Server Version: Apache/2.4.41 (Ubuntu)</dt><dt>Server MPM: event</dt></dl>
<table rules="all" cellpadding="1%">
<tr><th rowspan="2">PID</th><th rowspan="2">Slot</th><th rowspan="2">Stopping</th>
<th colspan="2">Connections</th><th colspan="2">Threads</th>
<th colspan="3">Async connections</th></tr>
<tr><th>total</th><th>accepting</th><th>busy</th><th>idle</th>
<th>writing</th><th>keep-alive</th><th>closing</th></tr>
<tr><td>4711</td><td>0</td><td>no</td><td>3</td><td>yes</td><td>2</td><td>23</td>
<td>1</td><td>2</td><td>0</td></tr>
<tr><td>Sum</td><td>1</td><td>0</td><td>3</td><td>&nbsp;</td><td>2</td><td>23</td>
<td>1</td><td>2</td><td>0</td></tr>
</table>
<pre>W_K_</pre>
<table border="0"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU</th><th>SS</th>
<th>Req</th><th>Conn</th><th>Child</th><th>Slot</th><th>Client</th><th>VHost</th><th>Request</th></tr>
<tr><td><b>0-0</b></td><td>4711</td><td>2/7/7</td><td><b>W</b></td><td>.5</td><td>12</td>
<td>3</td><td>0.0</td><td>0.01</td><td>0.01</td><td>203.0.113.5</td><td nowrap>example.com:443</td>
<td nowrap>POST /checkout?id=1&amp;x=2 HTTP/1.1</td></tr>
</table></body></html>
"""
