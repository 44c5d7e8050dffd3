"""The debugger in the window: breakpoints, Run to, the timeline, and the actions that tie them to the window."""
