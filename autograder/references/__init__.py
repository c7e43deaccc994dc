"""Independent reference implementations, written for the grader (never copied from solutions/).

`rnn`: PyTorch float64 forwards; every reference gradient comes from `torch.autograd`.
`mistakes`: models of known student mistakes, used only to recognise them in feedback.
"""
