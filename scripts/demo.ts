// Placeholder until the end-to-end demo lands (issue 9).
console.log('demo: nothing to run yet')
